"""Targets: defaults by kind of pair, changes kept with who, when, old and new, bad values
refused with a message and nothing changed, and only admins may edit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bots.desk.targets import change_targets
from bots.engine.desk.liquidity import AMBER, GREEN
from bots.models import AuditEntry, HealthSample, Market, MarketTargets, TargetChange

pytestmark = pytest.mark.django_db


def form_data(targets: MarketTargets, **changes) -> dict:
    data = {field: str(getattr(targets, field)) for field in MarketTargets.EDITABLE}
    data["version"] = str(targets.version)
    data.update({k: str(v) for k, v in changes.items()})
    return data


def test_flagship_and_long_tail_markets_get_their_defaults(demo_market):
    btc = MarketTargets.for_market(demo_market)
    doge = Market.objects.create(
        slug="doge-usdt", symbol="DOGE/USDT", mm_account=demo_market.mm_account,
        hedge_account=demo_market.hedge_account,
    )
    tail = MarketTargets.for_market(doge)

    assert (btc.spread_target_bps, btc.depth_05_target) == (Decimal(10), Decimal(50_000))
    assert (tail.spread_target_bps, tail.spread_alarm_bps, tail.depth_05_target) == (Decimal(30), Decimal(50), Decimal(10_000))
    assert MarketTargets.for_market(demo_market).pk == btc.pk  # created once


def test_a_change_is_kept_with_who_when_old_and_new_and_in_the_audit_log(demo_market, admin_user):
    targets = MarketTargets.for_market(demo_market)
    values = {f: getattr(targets, f) for f in MarketTargets.EDITABLE} | {"spread_target_bps": Decimal("8")}

    change = change_targets(targets, admin_user, values, seen_version=1)

    assert targets.version == 2 and targets.spread_target_bps == Decimal("8")
    assert (change.user, change.version, change.changes) == (admin_user, 2, {"spread_target_bps": ["10", "8"]})
    entry = AuditEntry.objects.get(action="targets changed")
    assert (entry.actor, entry.market, entry.details) == ("ada", demo_market, {"changes": {"spread_target_bps": ["10", "8"]}})


def test_a_form_older_than_the_last_change_is_refused_and_changes_nothing(demo_market, admin_user):
    targets = MarketTargets.for_market(demo_market)
    values = {f: getattr(targets, f) for f in MarketTargets.EDITABLE}
    change_targets(targets, admin_user, values | {"spread_target_bps": Decimal("8")}, seen_version=1)

    with pytest.raises(ValidationError, match="Someone changed these targets while you were editing"):
        change_targets(targets, admin_user, values | {"spread_target_bps": Decimal("12")}, seen_version=1)

    assert MarketTargets.objects.get().spread_target_bps == Decimal("8")
    assert TargetChange.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"spread_alarm_bps": "5"}, "spread_alarm_bps", "The red line must be at or above the spread target."),
        ({"depth_05_alarm": "60000"}, "depth_05_alarm", "The red line must be at or below the ±0.5% depth target."),
        ({"depth_1_target": "40000"}, "depth_1_target", "Depth within ±1% includes ±0.5%: its target cannot be smaller."),
        ({"uptime_target_pct": "101"}, "uptime_target_pct", "Ensure this value is less than or equal to 100."),
        ({"spread_target_bps": "-1"}, "spread_target_bps", "Ensure this value is greater than or equal to 0."),
        ({"listing_min_depth": "lots"}, "listing_min_depth", "Enter a number."),
        ({"listing_depth_pct": "3"}, "listing_depth_pct", "Select a valid choice. 3 is not one of the available choices."),
    ],
)
def test_bad_values_get_a_message_by_their_field_and_change_nothing(client, admin_user, demo_market, changes, field, message):
    targets = MarketTargets.for_market(demo_market)
    client.force_login(admin_user)

    response = client.post(reverse("targets-save", args=["btc-usdt"]), form_data(targets, **changes), HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert message in response.context["c"]["form"].errors[field]
    assert message in response.content.decode()
    assert MarketTargets.objects.get().version == 1
    assert not TargetChange.objects.exists()


def test_an_admin_saves_over_htmx_and_sees_the_card_with_its_history(client, admin_user, demo_market):
    targets = MarketTargets.for_market(demo_market)
    client.force_login(admin_user)

    response = client.post(
        reverse("targets-save", args=["btc-usdt"]), form_data(targets, spread_alarm_bps="40"), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Saved as version 2." in html
    assert "spread red line (bps): 50 → 40" in html
    assert MarketTargets.objects.get().spread_alarm_bps == Decimal("40")


def test_saving_works_without_javascript_by_redirecting(client, admin_user, demo_market):
    targets = MarketTargets.for_market(demo_market)
    client.force_login(admin_user)

    response = client.post(reverse("targets-save", args=["btc-usdt"]), form_data(targets, depth_2_target="120000"))

    assert response.status_code == 302
    assert response["Location"] == reverse("targets") + "#targets-btc-usdt"
    assert "BTC/USDT: Saved as version 2." in client.get(response["Location"]).content.decode()


def test_a_bad_value_without_javascript_renders_the_page_with_the_form_and_its_errors(client, admin_user, demo_market):
    targets = MarketTargets.for_market(demo_market)
    client.force_login(admin_user)

    response = client.post(reverse("targets-save", args=["btc-usdt"]), form_data(targets, spread_target_bps="abc"))

    assert response.status_code == 400
    assert "Enter a number." in response.content.decode()
    # The card beside the errors shows what is saved, not what was typed.
    assert response.context["cards"][0]["targets"].spread_target_bps == Decimal(10)


def test_saving_unchanged_values_records_nothing(client, admin_user, demo_market):
    targets = MarketTargets.for_market(demo_market)
    client.force_login(admin_user)

    response = client.post(reverse("targets-save", args=["btc-usdt"]), form_data(targets), HTTP_HX_REQUEST="true")

    assert "Nothing changed." in response.content.decode()
    assert not TargetChange.objects.exists()


@pytest.mark.parametrize("persona", ["viewer", "operator"])
def test_only_admins_edit(client, demo_market, persona, request):
    targets = MarketTargets.for_market(demo_market)
    client.force_login(request.getfixturevalue(persona))

    page = client.get(reverse("targets"))
    assert page.status_code == 200 and "Edit targets" not in page.content.decode()
    assert client.get(reverse("targets-edit", args=["btc-usdt"])).status_code == 403
    response = client.post(reverse("targets-save", args=["btc-usdt"]), form_data(targets, spread_target_bps="1"))
    assert response.status_code == 403
    assert MarketTargets.objects.get().spread_target_bps == Decimal(10)


def test_the_page_shows_compliance_over_the_last_day_and_week(client, viewer, demo_market):
    now = timezone.now()
    for hours, status in ((1, GREEN), (2, GREEN), (3, AMBER), (100, AMBER)):
        HealthSample.objects.create(market=demo_market, taken_at=now - timedelta(hours=hours), status=status,
                                    listing_ok=True)
    client.force_login(viewer)

    card = client.get(reverse("targets")).context["cards"][0]

    assert card["day"]["in_band_pct"] == Decimal("66.7") and card["day"]["samples"] == 3
    assert card["week"]["in_band_pct"] == Decimal("50.0") and card["week"]["listing_pct"] == Decimal("100.0")


def test_a_market_never_edited_shows_its_defaults_without_saving_them(client, viewer, demo_market):
    MarketTargets.objects.all().delete()
    client.force_login(viewer)

    page = client.get(reverse("targets"))

    assert "defaults: not edited yet" in page.content.decode()
    assert not MarketTargets.objects.exists()
