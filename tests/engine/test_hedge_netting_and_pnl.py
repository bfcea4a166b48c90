"""The pending hedge position nets opposite fills at their midpoint; P&L counts fees of both legs."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.engine.hedging.netting import Waiting, allocate, net, total
from bots.engine.hedging.pnl import HedgeFigures, fee_in_quote, hedge_pnl, slippage_bps, summarize
from bots.engine.rules import BUY, SELL


def test_opposite_pending_hedges_cancel_at_the_midpoint_of_their_fills():
    result = net([Waiting(1, BUY, D("0.00003"), D("100")), Waiting(2, SELL, D("0.00005"), D("98"))])

    [offset] = result.offsets
    assert (offset.buy, offset.sell, offset.amount, offset.price) == (1, 2, D("0.00003"), D("99"))
    assert result.left == (Waiting(2, SELL, D("0.00002"), D("98")),)


def test_netting_pairs_the_oldest_first_and_leaves_one_side():
    waiting = [
        Waiting(1, BUY, D("2"), D("10")),
        Waiting(2, BUY, D("3"), D("11")),
        Waiting(3, SELL, D("4"), D("12")),
        Waiting(4, BUY, D("1"), D("13")),
    ]

    result = net(waiting)

    assert [(o.buy, o.sell, o.amount) for o in result.offsets] == [(1, 3, D("2")), (2, 3, D("2"))]
    assert result.left == (Waiting(2, BUY, D("1"), D("11")), Waiting(4, BUY, D("1"), D("13")))
    assert total(result.left) == D("2")


def test_one_sided_pending_hedges_are_summed_not_netted():
    waiting = [Waiting(1, SELL, D("1"), D("10")), Waiting(2, SELL, D("2"), D("10"))]

    assert net(waiting).offsets == ()
    assert total(net(waiting).left) == D("3")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([BUY, SELL]), st.integers(1, 1000), st.integers(1, 1000)), max_size=30))
def test_netting_conserves_every_unit_and_its_value(rows):
    waiting = [Waiting(i, side, D(a) / 1000, D(p)) for i, (side, a, p) in enumerate(rows)]

    result = net(waiting)

    buys = sum(w.remaining for w in waiting if w.side == BUY)
    sells = sum(w.remaining for w in waiting if w.side == SELL)
    netted = sum(o.amount for o in result.offsets)
    assert len({w.side for w in result.left}) <= 1
    assert total(result.left) == abs(buys - sells)
    assert netted == min(buys, sells)
    # The netted pairs' P&L, split at the midpoints, is what the MM bot's two fills made.
    price = {w.id: w.fill_price for w in waiting}
    for o in result.offsets:
        pnl_buy_side = (price[o.buy] - o.price) * o.amount  # MM sold at price[buy]
        pnl_sell_side = (o.price - price[o.sell]) * o.amount  # MM bought at price[sell]
        assert pnl_buy_side + pnl_sell_side == (price[o.buy] - price[o.sell]) * o.amount


def test_allocation_fills_the_oldest_first():
    assert allocate(D("5"), [(1, D("2")), (2, D("2")), (3, D("4"))]) == [(1, D("2")), (2, D("2")), (3, D("1"))]


def test_allocating_more_than_needed_is_refused():
    with pytest.raises(ValueError, match="more than the members need"):
        allocate(D("5"), [(1, D("2"))])


# --- P&L ----------------------------------------------------------------------------------


def test_a_sold_fill_hedged_lower_earns_the_difference_less_both_fees():
    # MM sold 0.5 at 100 (fee 0.05 USDT); the hedge bought 0.5 at 99.8 paying 0.0005 BTC.
    hedge_fee = fee_in_quote(D("0.0005"), "BTC", D("99.8"), "BTC", "USDT")
    result = hedge_pnl(SELL, D("100"), D("0.5"), D("0.05"), D("0.5"), D("49.9"), hedge_fee)

    assert hedge_fee == D("0.0499")
    assert result.pnl_quote == D("0.1") - D("0.05") - D("0.0499")
    assert result.pnl_bps == result.pnl_quote / D("50") * 10000
    assert result.average_price == D("99.8")


def test_a_bought_fill_hedged_higher_earns_the_difference():
    result = hedge_pnl(BUY, D("100"), D("1"), D("0"), D("1"), D("100.3"), D("0.1"))

    assert result.pnl_quote == D("0.2")
    assert result.pnl_bps == D("20")


def test_a_partly_hedged_fill_bears_its_share_of_the_mm_fee():
    result = hedge_pnl(SELL, D("100"), D("1"), D("1"), D("0.25"), D("24.9"), D("0"))

    assert result.pnl_quote == D("0.1") - D("0.25")


def test_nothing_hedged_has_no_price_and_no_bps():
    result = hedge_pnl(SELL, D("100"), D("1"), D("1"), D("0"), D("0"), D("0"))

    assert (result.pnl_bps, result.average_price) == (None, None)


def test_a_fee_in_a_third_asset_is_not_valued():
    assert fee_in_quote(D("0.01"), "BNB", D("100"), "BTC", "USDT") == 0
    assert fee_in_quote(D("0.3"), "USDT", D("100"), "BTC", "USDT") == D("0.3")


def test_slippage_is_positive_when_the_hedge_did_worse_than_the_book():
    assert slippage_bps(BUY, D("100.1"), D("100")) == D("10")
    assert slippage_bps(SELL, D("99.9"), D("100")) == D("10")
    assert slippage_bps(BUY, D("99.9"), D("100")) == D("-10")


def test_a_day_is_summed_weighted_by_notional_with_nearest_rank_times():
    rows = [
        HedgeFigures(D("2"), D("1000"), 4, "filled"),
        HedgeFigures(D("-1"), D("3000"), 9, "filled"),
        HedgeFigures(None, D("0"), None, "failed"),
    ]

    day = summarize(rows)

    assert (day.hedges, day.pnl_quote) == (3, D("1"))
    assert day.pnl_bps == D("1") / D("4000") * 10000
    assert (day.median_ms, day.p99_ms) == (4, 9)
    assert day.by_state == {"filled": 2, "failed": 1}
