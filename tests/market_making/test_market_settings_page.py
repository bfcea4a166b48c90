"""The quote settings page: everyone reads, admins change; bounds and cross-field checks come
back as messages that change nothing; every save is a version (who, when, old, new) that the
next tick quotes with."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from bots.engine.market_making.quote_config import PARAMS
from bots.models import AuditEntry, QuoteSettings, QuoteSettingsVersion
from tests.support.quoting import resting, tick

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def form_data(market, **changes) -> dict:
    row = QuoteSettings.objects.get(market=market)
    data = {"version": row.version, "reason": ""}
    for param in PARAMS:
        value = getattr(row, param.name)
        if param.kind is bool:
            if value:
                data[param.name] = "on"
        else:
            data[param.name] = f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def save(client, market, htmx=True, **changes):
    url = reverse("market-settings-save", args=[market.slug])
    return client.post(url, form_data(market, **changes), **(HTMX if htmx else {}))


def page(client, market) -> str:
    return client.get(reverse("market-settings", args=[market.slug])).content.decode()


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_viewers_and_operators_read_the_settings_but_cannot_change_them(client, demo_market, persona, request):
    client.force_login(request.getfixturevalue(persona))

    html = page(client, demo_market)

    assert "only admins change them" in html
    assert 'name="bid_spread_bps" value="15"' in html and "disabled" in html
    assert "Save as version" not in html
    assert save(client, demo_market, levels="3").status_code == 403
    assert QuoteSettings.objects.get(market=demo_market).levels == 5


def test_an_admin_sees_every_parameter_with_its_meaning_and_bounds(client, admin_user, demo_market):
    client.force_login(admin_user)

    html = page(client, demo_market)

    for param in PARAMS:
        assert f'name="{param.name}"' in html and param.label in html
    assert "Distance of the best ask above the reference price (0 to 5000 bps)" in html
    assert "Most base the asks together may commit (0 to 1000000000 base; 0 turns it off)" in html
    assert "Save as version 1" in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"levels": "0"}, "Order levels must be at least 1"),
        ({"levels": "many"}, "Order levels must be a whole number"),
        ({"bid_spread_bps": "-3"}, "Bid spread must be at least 0"),
        ({"mode": "yolo"}, "Select a valid choice"),
        ({"level_amount": None}, "Level size is required"),
        (
            {"ask_spread_bps": "5"},
            "Ask spread (5 bps) is below the hedge floor of 12 bps (hedge taker fee 10 + own maker "
            "fee 0 + buffer 2 bps): raise it to at least 12",
        ),
        (
            {"price_ceiling": "60000", "price_floor": "61000"},
            "The price ceiling (60000) must be above the price floor (61000)",
        ),
        (
            {"ask_budget_base": "0.2"},
            "5 levels of the configured sizes need 0.5 base a side, more than the ask budget of 0.2",
        ),
    ],
)
def test_bad_settings_get_a_clear_message_and_change_nothing(client, admin_user, demo_market, changes, message):
    client.force_login(admin_user)

    response = save(client, demo_market, **changes)

    assert response.status_code == 422
    html = response.content.decode()
    assert message in html and "Nothing was saved" in html
    assert QuoteSettings.objects.get(market=demo_market).version == 0
    assert not QuoteSettingsVersion.objects.exists() and not AuditEntry.objects.exists()


def test_a_save_is_versioned_with_who_when_old_and_new_and_quoted_at_the_next_tick(
    client, admin_user, running_market
):
    client.force_login(admin_user)

    response = save(client, running_market, levels="3", ask_spread_bps="18.5", reason="thinner book")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Saved as version 1: 2 change(s), in effect from the next tick." in html
    version = QuoteSettingsVersion.objects.get()
    assert (version.number, version.user, version.actor, version.reason) == (
        1, admin_user, admin_user.username, "thinner book"
    )
    assert version.changes == {
        "ask_spread_bps": {"old": "15", "new": "18.5"},
        "levels": {"old": "5", "new": "3"},
    }
    assert "5 → <strong>3</strong>" in html and "Save as version 2" in html
    entry = AuditEntry.objects.get(action="settings")
    assert (entry.subject, entry.reason) == ("quote settings v1", "thinner book")

    tick(running_market)

    assert len([o for o in resting(running_market) if o["side"] == "sell"]) == 3


def test_a_save_over_someone_elses_newer_version_is_refused(client, admin_user, demo_market):
    client.force_login(admin_user)
    stale = form_data(demo_market, levels="4")
    save(client, demo_market, levels="3")

    response = client.post(reverse("market-settings-save", args=[demo_market.slug]), stale, **HTMX)

    assert response.status_code == 409
    assert "since you opened them: reload to see that change" in response.content.decode()
    assert QuoteSettings.objects.get(market=demo_market).levels == 3


def test_saving_unchanged_settings_says_so(client, admin_user, demo_market):
    client.force_login(admin_user)

    response = save(client, demo_market)

    assert response.status_code == 409
    assert "Nothing changed" in response.content.decode()
    assert not QuoteSettingsVersion.objects.exists()


def test_the_form_works_without_javascript(client, admin_user, demo_market):
    client.force_login(admin_user)

    response = save(client, demo_market, htmx=False, post_only=None)  # unticked

    assert response.status_code == 302
    assert "Saved as version 1" in client.get(response["Location"]).content.decode()
    assert QuoteSettings.objects.get(market=demo_market).post_only is False
    assert save(client, demo_market, htmx=False, levels="0").status_code == 422


def test_a_market_without_settings_does_not_quote_until_an_admin_saves_them(client, admin_user, demo_market):
    QuoteSettings.objects.filter(market=demo_market).delete()
    assert tick(demo_market) == "degraded"
    client.force_login(admin_user)
    assert 'name="levels" value="5"' in page(client, demo_market)  # the defaults, to start from

    response = client.post(
        reverse("market-settings-save", args=[demo_market.slug]), form_data_defaults(), **HTMX
    )

    assert response.status_code == 200
    version = QuoteSettingsVersion.objects.get()
    assert version.changes["levels"] == {"old": "", "new": "5"} and len(version.changes) == len(PARAMS)
    assert tick(demo_market) == "running"


def form_data_defaults() -> dict:
    from bots.engine.market_making.quote_config import DEFAULTS_BY_NAME

    data = {"version": 0, "reason": "first settings"}
    for name, value in DEFAULTS_BY_NAME.items():
        if value is True:
            data[name] = "on"
        elif value is not False:
            data[name] = f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
    return data
