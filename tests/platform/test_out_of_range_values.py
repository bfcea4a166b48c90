"""Out-of-range money and quantities: refused with a message naming the field and nothing
written; and a value already stored, however large, reads back so the pages and tasks that
show or use it keep working (on SQLite as on PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse

from bots.desk import tasks as desk_tasks
from bots.hedging import hedger
from bots.models import (
    AuditEntry,
    Hedge,
    HedgeCover,
    HedgeSettings,
    InventoryBand,
    Market,
    MarketTargets,
    RebalancePolicy,
    TargetChange,
    WithdrawalNetwork,
)
from bots.treasury import rebalancing
from bots.venues import faults
from tests.support.hedging_world import one_fill, set_faults

pytestmark = pytest.mark.django_db
HUGE = "99999999999999999999.999"
HTMX = {"HTTP_HX_REQUEST": "true"}
LIMIT = "Ensure this value is less than or equal to 1,000,000,000,000,000."


# --- a manual hedge --------------------------------------------------------------------------


@pytest.fixture
def failed(hedging_market):
    """A hedge whose only ladder step filled part of it, at a reference of 65,000."""
    faults.reset()
    HedgeSettings.objects.create(market=hedging_market, ladder_steps=0)
    set_faults("external", {"partial": 1.0}, seed=5)
    hedge = one_fill(hedging_market, "buy", "0.05")
    assert hedger.execute_hedge(hedge.pk).state == Hedge.FAILED
    set_faults("external", None)
    Market.objects.filter(pk=hedging_market.pk).update(reference_price=D("65000"))
    hedge.refresh_from_db()
    return hedge


def manual(client, hedge: Hedge, price: str):
    return client.post(
        reverse("hedge-manual", args=["btc-usdt", hedge.pk]),
        {"venue": "OTC desk", "price": price, "amount": "0.001", "reference": "otc-1"},
        **HTMX,
    )


def test_a_manual_hedge_at_an_absurd_price_is_refused_and_the_market_page_still_answers(
    client, operator, failed
):
    client.force_login(operator)

    response = manual(client, failed, HUGE)

    assert response.status_code == 422
    assert "price" in response.content.decode().lower()
    assert not HedgeCover.objects.filter(kind=HedgeCover.MANUAL).exists()
    assert not AuditEntry.objects.filter(action="hedge_manual").exists()
    assert client.get(reverse("market", args=["btc-usdt"])).status_code == 200
    assert client.get(reverse("hedges", args=["btc-usdt"])).status_code == 200


@pytest.mark.parametrize(("price", "accepted"), [
    ("48750", True), ("81250", True), ("48749.99", False), ("81250.01", False), ("650000", False),
])
def test_a_manual_hedge_price_must_be_within_a_quarter_of_the_reference(
    client, operator, failed, price, accepted
):
    client.force_login(operator)

    response = manual(client, failed, price)

    assert (response.status_code == 200) is accepted, response.content.decode()[:300]
    assert HedgeCover.objects.filter(kind=HedgeCover.MANUAL).exists() is accepted
    if not accepted:
        assert "The price must be within 25% of the reference 65000 USDT" in response.content.decode()


# --- targets ---------------------------------------------------------------------------------


def targets_data(targets: MarketTargets, **changes) -> dict:
    data = {field: str(getattr(targets, field)) for field in MarketTargets.EDITABLE}
    return data | {"version": str(targets.version)} | {k: str(v) for k, v in changes.items()}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("depth_2_target", HUGE, LIMIT),
    ("listing_min_daily_volume", HUGE, LIMIT),
    ("spread_alarm_bps", "10001", "Ensure this value is less than or equal to 10,000."),
    ("listing_max_spread_bps", HUGE, "Ensure this value is less than or equal to 10,000."),
])
def test_a_huge_target_is_refused_by_its_field_and_nothing_changes(
    client, admin_user, running_market, field, value, message
):
    targets = MarketTargets.for_market(running_market)
    client.force_login(admin_user)

    response = client.post(
        reverse("targets-save", args=["btc-usdt"]), targets_data(targets, **{field: value}), **HTMX
    )

    assert response.status_code == 400
    assert message in response.context["c"]["form"].errors[field]
    assert MarketTargets.objects.get().version == 1 and not TargetChange.objects.exists()
    assert client.get(reverse("targets")).status_code == 200
    assert client.get(reverse("overview")).status_code == 200
    assert desk_tasks.sample_health() == 1


def test_a_huge_target_already_stored_reads_back_and_pages_and_sampling_keep_working(
    client, viewer, running_market
):
    MarketTargets.for_market(running_market)
    MarketTargets.objects.update(depth_2_target=D(HUGE), listing_min_daily_volume=D(HUGE))
    client.force_login(viewer)

    assert MarketTargets.objects.get().depth_2_target == D(HUGE)
    assert client.get(reverse("targets")).status_code == 200
    assert client.get(reverse("overview")).status_code == 200
    assert client.get(reverse("market", args=["btc-usdt"])).status_code == 200
    assert desk_tasks.sample_health() == 1


# --- rebalance settings ----------------------------------------------------------------------


def band_data(market, **changes) -> dict:
    return {
        "account": market.mm_account.pk, "asset": "BTC", "unit": "amount",
        "minimum": "1", "target": "2", "maximum": "3", "reserve": "0", **changes,
    }


def policy_data(**changes) -> dict:
    return {
        "asset": "BTC", "two_approvers_above": "1", "runway_alert_hours": "4",
        "flow_window_minutes": "30", "proposal_ttl_minutes": "60", "max_fee_share": "0.02",
        "arrival_tolerance": "0.001", **changes,
    }


def network_data(market, **changes) -> dict:
    return {
        "venue": market.hedge_account.venue.pk, "asset": "BTC", "network": "LIGHTNING",
        "fee": "0.00001", "minimum": "0.0001", "step": "0.00000001", "arrival_minutes": "1",
        "enabled": "on", **changes,
    }


@pytest.mark.parametrize(("url", "data", "message"), [
    ("rebalance-band", lambda m: band_data(m, maximum=HUGE), "Maximum: " + LIMIT),
    ("rebalance-band", lambda m: band_data(m, reserve=HUGE), "Reserve: " + LIMIT),
    ("rebalance-policy", lambda m: policy_data(two_approvers_above=HUGE),
     "Two approvers above (amount): " + LIMIT),
    ("rebalance-network", lambda m: network_data(m, minimum=HUGE), "Minimum: " + LIMIT),
    ("rebalance-network", lambda m: network_data(m, fee=HUGE), "Fee: " + LIMIT),
])
def test_a_huge_band_policy_or_network_value_is_refused_by_its_field_and_nothing_is_written(
    client, admin_user, rebalance_market, url, data, message
):
    before = (
        list(InventoryBand.objects.values_list("pk", "maximum", "reserve").order_by("pk")),
        list(RebalancePolicy.objects.values_list("pk", "two_approvers_above").order_by("pk")),
        list(WithdrawalNetwork.objects.values_list("pk", "fee", "minimum").order_by("pk")),
    )
    client.force_login(admin_user)

    response = client.post(reverse(url), data(rebalance_market))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert (
        list(InventoryBand.objects.values_list("pk", "maximum", "reserve").order_by("pk")),
        list(RebalancePolicy.objects.values_list("pk", "two_approvers_above").order_by("pk")),
        list(WithdrawalNetwork.objects.values_list("pk", "fee", "minimum").order_by("pk")),
    ) == before
    assert not AuditEntry.objects.filter(action__endswith=" saved").exists()
    assert client.get(reverse("rebalance")).status_code == 200
    assert client.get(reverse("rebalance-settings")).status_code == 200
    rebalancing.plan_transfers()


def test_huge_band_policy_and_network_values_already_stored_read_back_and_the_planner_runs(
    client, admin_user, rebalance_market
):
    InventoryBand.objects.filter(account=rebalance_market.mm_account, asset="BTC").update(
        maximum=D(HUGE)
    )
    RebalancePolicy.objects.filter(asset="BTC").update(two_approvers_above=D(HUGE))
    WithdrawalNetwork.objects.filter(asset="BTC").update(minimum=D(HUGE))
    client.force_login(admin_user)

    assert InventoryBand.objects.get(account=rebalance_market.mm_account, asset="BTC").maximum == D(HUGE)
    assert client.get(reverse("rebalance")).status_code == 200
    assert client.get(reverse("rebalance-settings")).status_code == 200
    rebalancing.plan_transfers()
