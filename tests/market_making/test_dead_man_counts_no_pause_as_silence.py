"""The dead man's switch counts a silence from the later of the last tick and the market's last
start (a resume, the desk's resume, enabling it in the admin): a market paused longer than the
limit and resumed is not pulled, alerted or logged before its first tick is due, and is pulled
all the same when no tick follows the resume. The clock is the check's `now`, not a sleep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.forms import SplitDateTimeField
from django.test import RequestFactory
from django.utils import timezone

from bots.market_making import dead_man, operator_commands
from bots.models import Alert, AuditEntry, Market
from tests.support.quoting import market_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def ten_seconds(settings):
    settings.DEADMAN_SECONDS = 10


def last_tick(market: Market, seconds_ago: float) -> None:
    Market.objects.filter(pk=market.pk).update(last_tick_at=timezone.now() - timedelta(seconds=seconds_ago))


def nothing_raised() -> bool:
    return not (
        Alert.objects.filter(kind=Alert.QUOTES_PULLED).exists()
        or AuditEntry.objects.filter(action="dead_man_switch").exists()
    )


def test_a_resume_after_a_long_pause_is_not_taken_for_silence(running_market, operator):
    operator_commands.pause_market(running_market, reason="maintenance", user=operator)
    last_tick(running_market, 16)  # paused ticks stamp nothing: the last one is 16 s old

    operator_commands.resume_market(running_market, reason="done", user=operator)

    assert dead_man.check() == []
    assert dead_man.check(timezone.now() + timedelta(seconds=9)) == []
    assert nothing_raised()


def test_a_resumed_market_that_never_ticks_is_pulled_once_the_limit_has_passed(running_market, operator):
    operator_commands.pause_market(running_market, reason="maintenance", user=operator)
    last_tick(running_market, 16)
    operator_commands.resume_market(running_market, reason="done", user=operator)

    [line] = dead_man.check(timezone.now() + timedelta(seconds=11))

    assert line.startswith("BTC/USDT: no market-making tick for 11 s: quotes pulled")
    assert Alert.objects.get(kind=Alert.QUOTES_PULLED).state == Alert.OPEN


def test_the_desks_resume_after_a_long_kill_is_not_taken_for_silence(running_market, operator):
    operator_commands.kill_all(reason="incident", user=operator)
    last_tick(running_market, 60)

    operator_commands.resume_all(reason="over", user=operator)

    assert market_row(running_market).state == Market.RUNNING
    assert dead_man.check() == [] and nothing_raised()


def as_posted(form) -> dict:
    """The form's values as the admin page posts them back (a date and a time per moment)."""
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name)
        if isinstance(field, SplitDateTimeField) and value is not None:
            moment = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = moment.date().isoformat(), moment.time().isoformat()
        elif value is not None:
            data[name] = value
    return data


def test_enabling_a_market_in_the_admin_after_a_long_while_is_not_taken_for_silence(
    running_market, admin_user
):
    Market.objects.filter(pk=running_market.pk).update(enabled=False)
    last_tick(running_market, 600)
    market = market_row(running_market)
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    model_admin = site._registry[Market]
    form_class = model_admin.get_form(request, market)
    form = form_class(instance=market, data={**as_posted(form_class(instance=market)), "enabled": "on"})
    assert form.is_valid(), form.errors

    model_admin.save_model(request, form.save(commit=False), form, change=True)

    assert market_row(running_market).enabled
    assert dead_man.check() == [] and nothing_raised()
    assert market_row(running_market).last_tick_at < timezone.now() - timedelta(seconds=599)
