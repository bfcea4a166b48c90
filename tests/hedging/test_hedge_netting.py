"""Fills too small for the hedge venue wait in the market's pending hedge position: opposite ones
net against each other, same-side ones are summed and hedged together once tradable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.hedging import hedger
from bots.hedging.hedge_book import pending_position
from bots.models import Hedge, HedgeCover, HedgeOrder, PaperMarket
from bots.venues import faults
from dashboard.live.publisher import market_snapshot
from tests.support.hedging_world import one_fill, run_until_done

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def small_fills(hedging_market):
    """The hedge venue's minimum order is 10 USDT; the own venue takes 5: 0.0001 BTC (6.5 USDT)
    fills on the own venue but cannot be hedged alone."""
    faults.reset()
    PaperMarket.objects.filter(venue=hedging_market.hedge_account.venue).update(min_cost=D("10"))
    return hedging_market


def test_a_fill_below_the_hedge_venues_minimum_waits_in_the_pending_position(small_fills):
    hedge = one_fill(small_fills, "buy", "0.0001")  # the MM bot sold: a buy to hedge

    assert hedger.execute_hedge(hedge.pk).state == Hedge.WAITING

    hedge.refresh_from_db()
    assert (hedge.wait_reason, hedge.filled) == (Hedge.BELOW_MINIMUM, 0)
    assert "0.0001 BTC is below every hedge venue's minimum order" in hedge.error
    assert not HedgeOrder.objects.exists()
    [side] = pending_position(small_fills)["sides"]
    assert (side["side"], side["amount"], side["fills"]) == ("buy", D("0.0001"), 1)
    assert market_snapshot(small_fills)["hedging"]["pending"][0]["amount"] == D("0.0001")


def test_opposite_small_fills_hedge_each_other_without_an_order(small_fills):
    first = one_fill(small_fills, "buy", "0.0001")  # MM sold at its ask
    hedger.execute_hedge(first.pk)
    second = one_fill(small_fills, "sell", "0.0001")  # MM bought at its bid

    assert hedger.execute_hedge(second.pk).state == Hedge.FILLED

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == second.state == Hedge.FILLED
    assert not HedgeOrder.objects.exists()
    mid = (first.fill.price + second.fill.price) / 2
    for hedge, other in ((first, second), (second, first)):
        [cover] = hedge.covers.all()
        assert (cover.kind, cover.amount, cover.price, cover.counterpart_id) == (
            HedgeCover.NETTED, D("0.0001"), mid, other.pk
        )
    # The pair earned the MM bot's spread once, split evenly between the two fills.
    assert first.pnl_quote + second.pnl_quote == (first.fill.price - second.fill.price) * D("0.0001")
    assert pending_position(small_fills)["sides"] == []


def test_same_side_small_fills_are_hedged_together_once_tradable(small_fills):
    first = one_fill(small_fills, "buy", "0.0001")
    assert hedger.execute_hedge(first.pk).state == Hedge.WAITING
    second = one_fill(small_fills, "buy", "0.0001")  # 0.0002 together: 13 USDT, tradable

    outcome = hedger.execute_hedge(second.pk)

    assert (outcome.state, outcome.queue) == (Hedge.PENDING, [second.pk])  # it carries both
    first.refresh_from_db()
    assert (first.state, first.carrier_id) == (Hedge.CARRIED, second.pk)
    assert run_until_done(second.pk) == [Hedge.FILLED]
    [order] = HedgeOrder.objects.all()
    assert (order.hedge_id, order.amount, order.filled) == (second.pk, D("0.0002"), D("0.0002"))
    for hedge in (first, second):
        hedge.refresh_from_db()
        [cover] = hedge.covers.all()
        assert (hedge.state, hedge.filled, cover.order_id, cover.amount) == (
            Hedge.FILLED, D("0.0001"), order.pk, D("0.0001")
        )
    assert first.cost + second.cost == order.cost
    assert first.fee_quote + second.fee_quote == order.fee * order.cost / order.filled  # fee in BTC


def test_what_netting_leaves_stays_pending_on_one_side(small_fills):
    buy = one_fill(small_fills, "buy", "0.0001")
    hedger.execute_hedge(buy.pk)
    sell = one_fill(small_fills, "sell", "0.00014")

    assert hedger.execute_hedge(sell.pk).state == Hedge.WAITING

    buy.refresh_from_db()
    sell.refresh_from_db()
    assert buy.state == Hedge.FILLED
    assert (sell.state, sell.filled, sell.remaining) == (Hedge.WAITING, D("0.0001"), D("0.00004"))
    [side] = pending_position(small_fills)["sides"]
    assert (side["side"], side["amount"]) == ("sell", D("0.00004"))
