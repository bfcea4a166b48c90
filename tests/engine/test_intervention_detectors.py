"""The four detectors: each fires past its threshold and only there, points the way that answers
the imbalance, and stays quiet when switched off; the sizing, cost and effect of a proposal."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from bots.engine.interventions.detectors import (
    BUYBACK,
    FLOW,
    IMBALANCE,
    INVENTORY,
    MID_MOVE,
    UNWIND,
    Band,
    DetectorSettings,
    MarketView,
    UserTrade,
    detect,
    flow_finding,
    imbalance_finding,
    inventory_finding,
    mid_move_finding,
    net_user_flow,
    verdict,
)
from bots.engine.interventions.proposal import Sizing, amount_for, effect, estimate, price_limit
from bots.engine.rules import BUY, SELL, MarketRules

RULES = MarketRules("BTC/USDT", "BTC", "USDT", D("0.01"), D("0.0001"), D("0.0001"))
sizes = st.decimals(min_value=D("0"), max_value=D("1000"), places=4)
prices = st.decimals(min_value=D("1"), max_value=D("100000"), places=2)


@given(st.lists(st.tuples(st.sampled_from([BUY, SELL]), sizes, st.integers(0, 3_600_000)), max_size=20))
def test_net_flow_counts_only_the_window_and_signs_by_the_users_side(trades):
    now = 3_600_000
    ts = [UserTrade(t, side, a) for side, a, t in trades]
    inside = [t for t in ts if now - 15 * 60_000 < t.timestamp_ms <= now]

    assert net_user_flow(ts, now, 15) == sum(
        (t.amount if t.side == BUY else -t.amount for t in inside), D(0)
    )


@given(st.decimals(min_value=D("-100"), max_value=D("100"), places=4), sizes)
def test_the_flow_detector_fires_beyond_its_threshold_against_the_flow(net, threshold):
    found = flow_finding(net, threshold, 15, "BTC")

    if threshold == 0 or abs(net) <= threshold:
        assert found is None
    else:
        assert found.detector == FLOW
        assert found.kind == (BUYBACK if net < 0 else UNWIND)


@given(prices, prices, st.decimals(min_value=D("0"), max_value=D("20"), places=2))
def test_the_mid_move_detector_buys_below_the_reference_and_sells_above(own, ref, limit):
    found = mid_move_finding(own, ref, limit)
    moved = (own - ref) / ref * 100

    if limit == 0 or abs(moved) <= limit:
        assert found is None
    else:
        assert found.kind == (BUYBACK if own < ref else UNWIND)
        assert found.detector == MID_MOVE


def test_a_mid_move_without_a_reference_says_nothing():
    assert mid_move_finding(D("100"), None, D("1")) is None
    assert mid_move_finding(None, D("100"), D("1")) is None


@given(
    st.lists(sizes.filter(lambda a: a > 0), min_size=1, max_size=5),
    st.lists(sizes.filter(lambda a: a > 0), min_size=1, max_size=5),
    st.decimals(min_value=D("1.1"), max_value=D("10"), places=1),
)
def test_the_imbalance_detector_reads_only_within_one_percent_of_the_mid(bid_sizes, ask_sizes, ratio):
    bids = [(D("100") - D("0.2") * i, a) for i, a in enumerate(bid_sizes)]
    asks = [(D("100.2") + D("0.2") * i, a) for i, a in enumerate(ask_sizes)]
    far = [(D("50"), D("10000"))]  # far outside +/-1%: never counted
    found = imbalance_finding(bids + far, asks, ratio)
    mid = D("100.1")
    bid_depth = sum(a for p, a in bids if mid - p <= mid / 100)
    ask_depth = sum(a for p, a in asks if p - mid <= mid / 100)

    heavy, light = max(bid_depth, ask_depth), min(bid_depth, ask_depth)
    if heavy == light or heavy / light <= ratio:
        assert found is None
    else:
        assert found.detector == IMBALANCE
        assert found.kind == (BUYBACK if ask_depth > bid_depth else UNWIND)


def test_an_empty_bid_side_near_the_mid_is_beyond_any_ratio():
    bids = [(D("90"), D("5"))]  # 5% down: the slide left nothing near the mid
    asks = [(D("100"), D("1"))]
    found = imbalance_finding([(D("99.9"), D("0"))] + bids, asks, D("3"))

    assert found is not None and found.kind == BUYBACK


@given(sizes, sizes, sizes)
def test_the_inventory_detector_fires_outside_the_band_only(held, low, width):
    band = Band(low, low + width / 2, low + width)
    found = inventory_finding(held, band, "BTC")

    if low <= held <= low + width:
        assert found is None
    else:
        assert found.detector == INVENTORY
        assert found.kind == (BUYBACK if held < low else UNWIND)


def test_a_calm_market_gives_nothing_and_a_slide_agrees_on_a_buyback():
    settings = DetectorSettings(15, D("2"), D("1"), D("3"))
    calm = MarketView(
        "BTC", 1_000_000, (), [(D("99.9"), D("1"))], [(D("100.1"), D("1"))], D("100"), D("2"),
        Band(D("1"), D("2"), D("3")),
    )
    assert detect(calm, settings) == []

    sold = tuple(UserTrade(999_000, SELL, D("1")) for _ in range(3))
    slide = MarketView(
        "BTC", 1_000_000, sold, [(D("97"), D("0.2"))], [(D("97.5"), D("2"))], D("100"), D("5"),
        Band(D("1"), D("2"), D("3")),
    )
    found = detect(slide, settings)

    assert [f.detector for f in found] == [FLOW, MID_MOVE, IMBALANCE, INVENTORY]
    # The book slid but the MM bot bought it all: the detectors disagree, so no verdict.
    assert verdict(found) is None
    assert verdict(found[:3]) == BUYBACK
    assert "sold a net 3 BTC" in found[0].reason


def test_switched_off_detectors_stay_quiet():
    sold = tuple(UserTrade(999_000, SELL, D("50")) for _ in range(3))
    view = MarketView(
        "BTC", 1_000_000, sold, [(D("50"), D("1"))], [(D("100"), D("9"))], D("100"), D("0"), None
    )

    assert detect(view, DetectorSettings(15, D("0"), D("0"), D("0"), False)) == []


@given(
    st.sampled_from([BUYBACK, UNWIND]),
    st.decimals(min_value=D("1"), max_value=D("100000"), places=2),
    st.decimals(min_value=D("0"), max_value=D("1000"), places=0),
)
def test_the_price_limit_never_loosens_past_the_reference_plus_its_bps(kind, ref, bps):
    limit = price_limit(kind, ref, bps, RULES)

    if kind == BUYBACK:
        assert limit <= ref * (1 + bps / 10000)
    else:
        assert limit >= ref * (1 - bps / 10000)
    assert limit % RULES.price_tick == 0


@given(
    st.sampled_from([BUYBACK, UNWIND]),
    sizes, sizes, sizes, st.decimals(min_value=D("0"), max_value=D("1000000"), places=2),
)
def test_a_proposal_is_never_more_than_the_account_can_pay_or_hold(kind, held, free_base, default, quote):
    limit = D("100")
    amount = amount_for(kind, [], held, None, free_base, quote, limit, Sizing(default, 30, D(50)), RULES)

    assert amount >= 0 and amount % RULES.amount_step == 0
    assert amount <= default
    if kind == BUYBACK:
        assert amount * limit <= quote
    else:
        assert amount <= free_base


def test_an_inventory_finding_sizes_the_proposal_back_to_the_target():
    band = Band(D("1"), D("2"), D("3"))
    found = [inventory_finding(D("4.5"), band, "BTC")]

    amount = amount_for(
        UNWIND, found, D("4.5"), band, D("4.5"), D("0"), D("100"), Sizing(D("1"), 30, D(50)), RULES
    )

    assert amount == D("2.5")


def test_the_estimate_stops_at_the_limit_and_counts_slippage_and_fees():
    asks = [(D("100"), D("1")), (D("101"), D("1")), (D("110"), D("5"))]
    est = estimate(BUYBACK, D("3"), asks, D("102"), D("99.5"), D("0.001"))

    assert est.reachable == D("2")
    assert est.average_price == D("100.5")
    assert est.notional == D("201")
    assert est.fee == D("0.201")
    assert est.slippage == D("2")


def test_the_effect_moves_base_and_quote_and_the_runway():
    eff = effect(BUYBACK, D("1"), D("100"), D("0.001"), D("0.5"), D("1000"), D("-0.1"), D("10"))

    assert (eff.base_after, eff.quote_after) == (D("1.5"), D("899.900"))
    assert eff.base_runway_before == D("5") and eff.base_runway_after == D("15")
    assert eff.quote_runway_before is None
