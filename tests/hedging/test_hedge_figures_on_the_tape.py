"""Per fill and per day: hedge P&L in quote currency and bps (fees of both legs), slippage against
the protection price's allowance, and the time from the fill to the hedge done."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.models import Fill, Hedge, HedgeOrder
from bots.venues import faults
from dashboard.live.publisher import market_snapshot
from tests.support.hedging_world import one_fill, run_until_done

pytestmark = pytest.mark.django_db
D = Decimal


def test_each_hedged_fill_shows_its_pnl_slippage_and_time_on_the_tape(hedging_market):
    faults.reset()
    hedge = one_fill(hedging_market, "buy", "0.03")  # the MM bot sold 0.03 at its ask
    run_until_done(hedge.pk)
    hedge.refresh_from_db()
    fill, order = Fill.objects.get(), HedgeOrder.objects.get()

    [row] = market_snapshot(hedging_market)["tape"]

    shown = row["hedge"]
    # Sold at the fill price, bought back at the order's price; the hedge's fee was in BTC.
    average = order.cost / order.filled
    expected = (fill.price - average) * D("0.03") - fill.fee - order.fee * average
    assert hedge.pnl_quote == expected
    assert shown["pnl_quote"] == expected.quantize(D("0.01"))
    assert shown["pnl_bps"] == (expected / (fill.price * D("0.03")) * 10000).quantize(D("0.1"))
    assert shown["slippage_bps"] == ((average - order.expected_price) / order.expected_price * 10000).quantize(D("0.1"))
    assert shown["allowed_bps"] == ((order.limit_price - order.expected_price) / order.expected_price * 10000).quantize(D("0.1"))
    assert shown["allowed_bps"] <= D("20")  # the demo's slippage: the protection price holds it
    assert 0 <= shown["hedge_ms"] == hedge.hedge_ms
    assert hedge.hedge_ms == int(hedge.done_at.timestamp() * 1000) - fill.timestamp
    assert (shown["venue"], shown["state"]) == ("External exchange", Hedge.FILLED)


def test_the_days_hedging_is_summed_on_the_market_page(hedging_market):
    faults.reset()
    hedges = [one_fill(hedging_market, side, "0.02") for side in ("buy", "sell", "buy")]
    for hedge in hedges:
        run_until_done(hedge.pk)
    done = list(Hedge.objects.order_by("hedge_ms"))

    today = market_snapshot(hedging_market)["hedging"]["today"]

    assert (today["hedges"], today["by_state"]) == (3, {Hedge.FILLED: 3})
    assert today["pnl_quote"] == sum(h.pnl_quote for h in done).quantize(D("0.01"))
    notional = sum(h.fill.price * h.filled for h in done)
    assert today["pnl_bps"] == (sum(h.pnl_quote for h in done) / notional * 10000).quantize(D("0.1"))
    assert today["median_ms"] == done[1].hedge_ms and today["p99_ms"] == done[2].hedge_ms


def test_the_page_counts_failed_hedges_and_shows_what_is_pending(hedging_market):
    hedge = one_fill(hedging_market, "buy", "0.02")
    Hedge.objects.filter(pk=hedge.pk).update(state=Hedge.FAILED, error="ladder exhausted")

    hedging = market_snapshot(hedging_market)["hedging"]

    assert (hedging["failed"], hedging["pending"], hedging["mismatches"]) == (1, [], 0)
