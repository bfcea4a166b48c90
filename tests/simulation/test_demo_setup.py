"""`seed_demo` builds the demo once, and the embedded Redis that `make demo` runs. These seed
the minimal demo (`--minimal`, BTC/USDT alone); the full desk: test_demo_desk_seed.py."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from ballast.embedded_redis import EmbeddedRedis
from bots.desk import four_eyes, two_factor
from bots.desk.roles import ADMIN, has_role
from bots.engine.simulation.flow import users_rate_ceiling
from bots.management.commands.seed_demo import DEMO_ADMINS
from bots.models import Account, Market, PaperBalance, QuoteSettings
from bots.simulation.demo_seed import FULL, MINIMAL

DEMO_TRADES_PER_MINUTE = MINIMAL.markets["btc-usdt"].users_per_minute

ROOT = Path(__file__).resolve().parents[2]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--minimal", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str:
    return output.split("with password")[1].split()[0]


@pytest.mark.django_db
def test_seeding_twice_keeps_one_demo_and_its_login():
    password = printed_password(seed())
    seed("--trades-per-minute", "30")

    assert Market.objects.count() == 1
    assert Market.objects.get().sim_trades_per_minute == 30
    assert Account.objects.count() == 4
    mm = Account.objects.get(role=Account.MARKET_MAKING)
    assert PaperBalance.objects.get(account=mm, asset="BTC").free == Decimal("2")
    assert authenticate(username="operator", password=password) is not None


@pytest.mark.django_db
def test_changing_the_users_rate_leaves_the_login_alone():
    password = printed_password(seed())
    before = User.objects.get(username="operator").password

    output = seed("--trades-per-minute", "0")

    assert Market.objects.get().sim_trades_per_minute == 0
    assert "with password" not in output  # no password printed that would not work
    assert "--new-password" in output
    assert User.objects.get(username="operator").password == before
    assert authenticate(username="operator", password=password) is not None


@pytest.mark.django_db
def test_a_new_password_is_printed_only_when_asked_for_and_it_works():
    old = printed_password(seed())
    seed("--trades-per-minute", "20")

    new = printed_password(seed("--new-password"))

    assert Market.objects.get().sim_trades_per_minute == 20  # no rate given: kept
    assert authenticate(username="operator", password=new) is not None
    assert authenticate(username="operator", password=old) is None
    assert User.objects.get(username="operator").groups.filter(name="operator").exists()


@pytest.mark.django_db
def test_the_demo_has_two_admins_with_codes_and_either_confirms_the_others_change(settings):
    settings.TWO_FACTOR = True
    output = seed()
    passwords = {
        name: output.split(f"  {name} ")[1].split("with password")[1].split()[0]
        for name in DEMO_ADMINS
    }
    assert "Admins" in output and "demo_code admin" in output
    admins = {name: authenticate(username=name, password=p) for name, p in passwords.items()}
    first, second = (admins[name] for name in DEMO_ADMINS)
    assert first is not None and second is not None
    assert has_role(first, ADMIN) and has_role(second, ADMIN)
    code = io.StringIO()
    call_command("demo_code", DEMO_ADMINS[1], stdout=code)
    assert two_factor.device_of(second).verify_token(code.getvalue().strip())

    # Four-eyes: neither admin made the other, so each confirms what the other proposes.
    operator = User.objects.get(username="operator")
    change = four_eyes.propose_role(first, operator, ADMIN, grant=True)
    assert four_eyes.may_confirm(second, change) == ""
    four_eyes.confirm(second, change.pk)
    assert has_role(operator, ADMIN)

    again = seed()  # no new password asked for: the admins' stay as they were
    assert "with password" not in again
    assert authenticate(username=DEMO_ADMINS[0], password=passwords[DEMO_ADMINS[0]]) is not None


@pytest.mark.django_db
def test_the_operators_login_cannot_take_an_admins_name():
    with pytest.raises(CommandError, match="one of the demo's admins"):
        seed("--username", DEMO_ADMINS[0])
    assert not User.objects.exists()


def test_make_demo_asks_for_a_new_password_so_its_printed_login_works():
    plan = subprocess.run(
        ["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "manage.py seed_demo --new-password" in plan


def test_the_embedded_redis_starts_answers_and_stops(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis.sock").start()
    try:
        assert redis.Redis.from_url(server.url).ping()
        with pytest.raises(RuntimeError, match="already answers"):
            EmbeddedRedis(tmp_path / "redis.sock").start()
    finally:
        server.stop()
    assert not (tmp_path / "redis.sock").exists()


@pytest.mark.django_db
def test_a_rate_the_trade_limiter_would_stop_is_refused_and_nothing_changes():
    seed()
    with pytest.raises(CommandError) as refused:
        seed("--trades-per-minute", "60")
    message = str(refused.value)
    assert "--trades-per-minute 60" in message
    assert "90 fills a minute" in message and "at most 30" in message
    assert Market.objects.get().sim_trades_per_minute == DEMO_TRADES_PER_MINUTE

    seed("--trades-per-minute", "30")
    assert Market.objects.get().sim_trades_per_minute == 30


@pytest.mark.django_db
def test_the_ceiling_follows_the_markets_own_limiter():
    seed()
    QuoteSettings.objects.update(max_trades_per_minute=300)
    seed("--trades-per-minute", "100")
    assert Market.objects.get().sim_trades_per_minute == 100
    QuoteSettings.objects.update(max_trades_per_minute=0)  # limiter off: the field's bound only
    seed("--trades-per-minute", "600")
    with pytest.raises(CommandError, match="between 0 and 600, not -1"):
        seed("--trades-per-minute", "-1")
    assert Market.objects.get().sim_trades_per_minute == 600


def test_the_demos_default_rates_are_under_their_limiters_ceilings():
    for spec in (*MINIMAL.markets.values(), *FULL.markets.values()):
        assert spec.users_per_minute <= users_rate_ceiling(spec.quotes["max_trades_per_minute"])
