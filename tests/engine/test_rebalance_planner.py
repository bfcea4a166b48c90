"""The rebalance planner: its guarantees for any balances and bands, and the cases people read.

The properties check the plan against an independent oracle: for up to three accounts every
plan with disjoint senders and receivers has one transfer, or two sharing an end, and whether
amounts exist for such a shape is plain interval arithmetic in whole withdrawal steps.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR
from decimal import Decimal as D
from itertools import permutations

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from bots.engine.treasury.planner import (
    ABOVE,
    BELOW,
    INSIDE,
    Band,
    Holding,
    PlannerLimit,
    Route,
    apply,
    plan,
    plan_asset,
    review,
)

BAND = Band(D("1"), D("2"), D("3"))
SATOSHI = D("0.00000001")


def btc(account, total, free=None, band=BAND, **kw) -> Holding:
    total = D(total)
    return Holding(
        account, account.upper(), "BTC", D(free) if free is not None else total, total, band, **kw
    )


def route(
    source, destination, fee="0.0002", minimum="0.001", step=SATOSHI, network="BTC", asset="BTC"
):
    return Route(source, destination, asset, network, D(fee), D(minimum), step, 1800)


BOTH_WAYS = [route("mm", "hedge"), route("hedge", "mm")]


# --- the cases an operator meets -----------------------------------------------------------


def test_balanced_accounts_need_no_transfer():
    [result] = plan([btc("mm", "2"), btc("hedge", "2")], BOTH_WAYS, D("0.05"))

    assert result.transfers == ()
    assert result.complete


def test_a_drained_mm_account_is_refilled_from_the_hedge_account_towards_target():
    [result] = plan([btc("mm", "0.35"), btc("hedge", "3.65")], BOTH_WAYS, D("0.05"))

    [transfer] = result.transfers
    assert (transfer.source, transfer.destination, transfer.network) == ("hedge", "mm", "BTC")
    assert transfer.fee == D("0.0002")
    # Both land as near the 2 BTC target as the fee allows.
    assert abs(transfer.destination_after - 2) <= D("0.0011")
    assert abs(transfer.source_after - 2) <= D("0.0011")
    assert transfer.destination_after == D("0.35") + transfer.amount - transfer.fee
    assert "MM holds 0.35000 BTC, below its minimum 1.00000" in transfer.reason
    assert "HEDGE holds 3.65000 BTC, above its maximum 3.00000" in transfer.reason
    assert result.complete


def test_coins_in_orders_and_the_reserve_are_never_moved():
    # The hedge account holds 3.65 but only 1 is free, of which 0.5 is reserved: 0.5 can go,
    # and that is not enough to bring either account back inside its band.
    [result] = plan(
        [btc("mm", "0.35"), btc("hedge", "3.65", free="1", reserve=D("0.5"))], BOTH_WAYS, D("0.05")
    )

    [transfer] = result.transfers
    assert D("0.499") <= transfer.amount <= D("0.5")
    assert not result.complete
    assert [o.account for o in result.out_of_band] == ["hedge", "mm"]


def test_what_is_in_flight_counts_where_it_is_going():
    [result] = plan(
        [btc("mm", "0.35", incoming=D("1.6")), btc("hedge", "2.05")], BOTH_WAYS, D("0.05")
    )

    assert result.transfers == ()
    assert result.complete


def test_a_transfer_is_not_sent_back_the_way_one_is_coming():
    [result] = plan(
        [btc("mm", "3.5"), btc("hedge", "0.5")],
        BOTH_WAYS,
        D("0.05"),
        forbidden=[("mm", "hedge", "BTC")],
    )

    assert result.transfers == ()
    assert {o.account for o in result.out_of_band} == {"mm", "hedge"}


def test_a_transfer_the_fee_would_eat_is_not_proposed():
    # 0.9 BTC short of the band, but the fee (0.1) is over 5% of anything that could go.
    [result] = plan(
        [btc("mm", "0.9"), btc("hedge", "2.9")], [route("hedge", "mm", fee="0.1")], D("0.05")
    )

    assert result.transfers == ()


def test_the_cheaper_network_wins():
    routes = [
        route("hedge", "mm", fee="0.0005", network="BTC"),
        route("hedge", "mm", fee="0.00001", network="LIGHTNING", minimum="0.0001"),
    ]

    [result] = plan([btc("mm", "0.5"), btc("hedge", "3.5")], routes, D("0.05"))

    assert [t.network for t in result.transfers] == ["LIGHTNING"]


def test_one_donor_refills_two_accounts_in_two_transfers():
    holdings = [btc("a", "0.2"), btc("b", "0.4"), btc("c", "5.5")]
    routes = [route(s, d) for s, d in permutations("abc", 2)]

    [result] = plan(holdings, routes, D("0.05"))

    assert sorted((t.source, t.destination) for t in result.transfers) == [("c", "a"), ("c", "b")]
    assert result.complete


def test_each_asset_is_planned_on_its_own():
    usdt_band = Band(D("60000"), D("130000"), D("200000"))
    holdings = [
        btc("mm", "0.3"),
        btc("hedge", "3.7"),
        Holding("mm", "MM", "USDT", D("240000"), D("240000"), usdt_band),
        Holding("hedge", "HEDGE", "USDT", D("20000"), D("20000"), usdt_band),
    ]
    routes = BOTH_WAYS + [
        route(
            "mm", "hedge", fee="1", minimum="10", step=D("0.000001"), network="TRC20", asset="USDT"
        )
    ]

    results = plan(holdings, routes, D("0.05"))

    assert [(r.asset, [(t.source, t.destination) for t in r.transfers]) for r in results] == [
        ("BTC", [("hedge", "mm")]),
        ("USDT", [("mm", "hedge")]),
    ]
    assert all(r.complete for r in results)


def test_a_holding_without_a_band_is_left_alone():
    [result] = plan([btc("mm", "0.1"), btc("hedge", "9", band=None)], BOTH_WAYS, D("0.05"))

    assert result.transfers == ()
    assert [o.account for o in result.outcomes] == ["mm"]


def test_a_partial_plan_moves_every_short_account_the_same_way_back():
    # a is 0.8 short and b 0.4; c can spare only 0.9 before it falls below its own minimum.
    holdings = [btc("a", "0.2"), btc("b", "0.6"), btc("c", "1.9")]
    routes = [route("c", "a", fee="0"), route("c", "b", fee="0")]

    [result] = plan(holdings, routes, D("0.05"))

    after = {o.account: o.after for o in result.outcomes}
    assert after["c"] == 1  # the donor gives down to its own minimum, never below
    # Each short account closed the same three quarters of its gap.
    assert (after["a"], after["b"]) == (D("0.8"), D("0.9"))
    assert [o.account for o in result.out_of_band] == ["a", "b"]


def test_more_accounts_than_the_exact_search_takes_is_a_clear_error():
    holdings = [btc(name, "2") for name in "abcdef"]

    with pytest.raises(PlannerLimit, match="at most 5"):
        plan_asset(holdings, [], D("0.05"))


@pytest.mark.parametrize("share", ["0", "1", "-0.1"])
def test_the_fee_share_must_be_a_fraction(share):
    with pytest.raises(ValueError, match="max_fee_share"):
        plan([btc("mm", "1")], [], D(share))


def test_a_band_must_be_ordered():
    with pytest.raises(ValueError, match="minimum <= target <= maximum"):
        Band(D("2"), D("1"), D("3"))


# --- review: is an open proposal still worth approving? --------------------------------------


def holdings_of(*items: Holding) -> dict[str, Holding]:
    return {h.account: h for h in items}


def test_a_proposal_stays_valid_while_it_still_does_its_job():
    state = holdings_of(btc("mm", "0.6"), btc("hedge", "3.4"))

    assert review("hedge", "mm", D("1.4"), D("0.0002"), state) == ""


def test_a_proposal_whose_destination_refilled_is_moot():
    state = holdings_of(btc("mm", "1.8"), btc("hedge", "2.2"))

    assert "above its maximum 3.00000" in review("hedge", "mm", D("1.4"), D("0.0002"), state)


def test_a_proposal_the_source_can_no_longer_afford_is_moot():
    state = holdings_of(btc("mm", "0.6"), btc("hedge", "3.4", free="1"))

    assert "can send only 1.00000 BTC" in review("hedge", "mm", D("1.4"), D("0.0002"), state)


def test_a_proposal_nobody_needs_any_more_is_moot_unless_made_by_hand():
    state = holdings_of(btc("mm", "1.1"), btc("hedge", "2.9"))

    assert "inside their BTC bands" in review("hedge", "mm", D("0.5"), D("0"), state)
    assert review("hedge", "mm", D("0.5"), D("0"), state, needed=False) == ""


def test_apply_moves_a_committed_transfer_out_of_the_source_and_into_flight():
    state = apply(
        holdings_of(btc("mm", "0.6"), btc("hedge", "3.4")), "hedge", "mm", D("1"), D("0.1")
    )

    assert (state["hedge"].free, state["hedge"].total) == (D("2.4"), D("2.4"))
    assert (state["mm"].total, state["mm"].incoming, state["mm"].position) == (
        D("0.6"),
        D("0.9"),
        D("1.5"),
    )


# --- properties ------------------------------------------------------------------------------

CENT = D("0.01")


@st.composite
def bands(draw):
    low = draw(st.integers(0, 300))
    target = low + draw(st.integers(0, 300))
    high = target + draw(st.integers(0, 300))
    return Band(low * CENT, target * CENT, high * CENT)


@st.composite
def holdings(draw, names):
    result = []
    for name in names:
        band = draw(bands())
        # Below, inside or above the band, each as likely.
        where = draw(st.sampled_from([BELOW, INSIDE, ABOVE]))
        low, high = {
            BELOW: (0, max(0, int(band.minimum / CENT) - 1)),
            INSIDE: (int(band.minimum / CENT), int(band.maximum / CENT)),
            ABOVE: (int(band.maximum / CENT) + 1, int(band.maximum / CENT) + 400),
        }[where]
        total = draw(st.integers(low, high)) * CENT
        free = (
            total - draw(st.integers(0, int(total / CENT))) * CENT if draw(st.booleans()) else total
        )
        reserve = draw(st.integers(0, int(free / CENT))) * CENT if draw(st.booleans()) else D(0)
        incoming = draw(st.sampled_from([D(0), D(0), D(0), D("0.5")]))
        result.append(Holding(name, name, "X", free, total, band, incoming, reserve))
    return result


@st.composite
def routes(draw, names):
    result = []
    for source, destination in permutations(names, 2):
        if draw(st.integers(0, 4)) == 0:
            continue  # some pairs have no route
        result.append(
            Route(
                source,
                destination,
                "X",
                "N",
                fee=D(draw(st.sampled_from(["0", "0", "0.01", "0.01", "0.05", "0.2"]))),
                minimum=D(draw(st.sampled_from(["0", "0", "0.1", "0.5", "1"]))),
                step=draw(st.sampled_from([CENT, D("0.1")])),
                arrival_seconds=600,
            )
        )
    return result


@st.composite
def problems(draw, max_accounts):
    n = draw(st.integers(2, max_accounts))
    names = [chr(ord("a") + i) for i in range(n)]
    hs = draw(holdings(names))
    rs = draw(routes(names))
    share = draw(st.sampled_from([D("0.02"), D("0.1"), D("0.5")]))
    forbidden = set()
    if draw(st.booleans()) and len(rs) > 0:
        r = draw(st.sampled_from(rs))
        forbidden.add((r.source, r.destination, "X"))
    return hs, rs, share, forbidden


def after_positions(hs, transfers) -> dict[str, D]:
    after = {h.account: h.position for h in hs}
    for t in transfers:
        after[t.source] -= t.amount
        after[t.destination] += t.amount - t.fee
    return after


PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(problems(max_accounts=4))
def test_every_plan_keeps_every_promise(problem):
    hs, rs, share, forbidden = problem
    [result] = plan(hs, rs, share, forbidden)
    by = {h.account: h for h in hs}
    route_of = {(r.source, r.destination, r.network): r for r in rs}
    sources = {t.source for t in result.transfers}
    destinations = {t.destination for t in result.transfers}

    # Never a cycle or a relay, never against the way something is coming.
    assert not sources & destinations
    assert len({(t.source, t.destination) for t in result.transfers}) == len(result.transfers)
    assert not {(t.source, t.destination, "X") for t in result.transfers} & forbidden
    for t in result.transfers:
        r = route_of[(t.source, t.destination, t.network)]
        # Never below the minimum, never eaten by its fee, always whole steps.
        assert t.amount >= r.minimum
        assert t.fee == r.fee and t.amount > t.fee and t.fee <= share * t.amount
        assert t.amount % r.step == 0
    # Never more than free minus reserve.
    for account in sources:
        assert (
            sum(t.amount for t in result.transfers if t.source == account) <= by[account].sendable
        )

    after = after_positions(hs, result.transfers)
    assert {o.account: o.after for o in result.outcomes} == after
    for h in hs:
        before_status = h.band.status(h.position)
        after_status = h.band.status(after[h.account])
        # Nobody inside the band is pushed out; nobody outside is made worse.
        if before_status == INSIDE:
            assert after_status == INSIDE
        elif before_status == BELOW:
            assert after[h.account] >= h.position
        else:
            assert before_status == ABOVE and after[h.account] <= h.position
    if result.complete and result.transfers:
        # A complete plan leaves nothing to do: planning again proposes nothing.
        settled = [
            Holding(
                h.account,
                h.label,
                h.asset,
                h.free,
                h.total,
                h.band,
                after[h.account] - h.total,
                h.reserve,
            )
            for h in hs
        ]
        assert plan(settled, rs, share, forbidden)[0].transfers == ()


# The oracle: the fewest transfers of any complete plan, for up to three accounts.


def _ceil(x: D) -> int:
    return int(x.to_integral_value(ROUND_CEILING))


def _floor(x: D) -> int:
    return int(x.to_integral_value(ROUND_FLOOR))


def fewest_transfers(hs, rs, share, forbidden) -> int | None:
    """Amounts in cents (every step, fee and position here is whole cents). Every route carries
    whole multiples of the planner's one unit for the asset: the coarsest step among the routes
    that can carry anything (not forbidden, and the source can send the route's smallest
    amount). A plan that needs a finer amount on one route than another route's step allows is
    beyond the planner (docs/treasury.md), and so beyond this count. (This oracle once took the
    coarsest step of every route, forbidden or empty ones too: it missed a plan of 0.51 on a
    route of cent steps; the planner then took empty accounts' routes into its unit.)"""
    by = {h.account: h for h in hs}

    def in_band(account):
        h = by[account]
        return h.band.minimum <= h.position <= h.band.maximum

    def least(r):  # the fewest cents the route may carry: its minimum, more than its fee
        return max(_ceil(r.minimum / CENT), _floor(r.fee / CENT) + 1, _ceil(r.fee / share / CENT)), 10**12

    def sending(account):  # cents the account may send
        h = by[account]
        return (
            max(0, _ceil((h.position - h.band.maximum) / CENT)),
            _floor(min(h.sendable, h.position - h.band.minimum) / CENT),
        )

    def receiving(account, fees):  # cents the account may receive, gross of `fees`
        h = by[account]
        return (
            max(0, _ceil((h.band.minimum - h.position + fees) / CENT)),
            _floor((h.band.maximum - h.position + fees) / CENT),
        )

    def meet(*intervals):
        return max(i[0] for i in intervals), min(i[1] for i in intervals)

    def carries(r):  # the source can send the route's smallest amount, in its own step
        steps = _ceil(least(r)[0] * CENT / r.step)
        return steps * r.step <= by[r.source].sendable

    open_routes = [r for r in rs if (r.source, r.destination, "X") not in forbidden]
    unit = max((int(r.step / CENT) for r in open_routes if carries(r)), default=1)

    def cents_of(r):
        return unit

    def a_multiple(interval, every) -> bool:
        low, high = interval
        return -(-low // every) * every <= high

    def two_fit(a1, every1, a2, every2, total) -> bool:
        """Amounts x1 and x2, whole multiples of their steps within a1 and a2, summing into total."""
        first = -(-a1[0] // every1) * every1
        for x1 in range(first, a1[1] + 1, every1):
            if a_multiple((max(a2[0], total[0] - x1), min(a2[1], total[1] - x1)), every2):
                return True
        return False

    if all(in_band(a) for a in by):
        return 0
    usable = [r for r in rs if (r.source, r.destination, "X") not in forbidden]
    best = None
    for r in usable:
        others = set(by) - {r.source, r.destination}
        if all(in_band(a) for a in others):
            if a_multiple(meet(least(r), sending(r.source), receiving(r.destination, r.fee)), cents_of(r)):
                return 1
    for r1 in usable:
        for r2 in usable:
            if (r1.source, r1.destination) >= (r2.source, r2.destination):
                continue
            if r1.source == r2.source and r1.destination != r2.destination:
                a1 = meet(least(r1), receiving(r1.destination, r1.fee))
                a2 = meet(least(r2), receiving(r2.destination, r2.fee))
                total = sending(r1.source)
            elif r1.destination == r2.destination and r1.source != r2.source:
                a1 = meet(least(r1), sending(r1.source))
                a2 = meet(least(r2), sending(r2.source))
                total = receiving(r1.destination, r1.fee + r2.fee)
            else:
                continue
            if two_fit(a1, cents_of(r1), a2, cents_of(r2), total):
                best = 2
    return best


def test_a_plan_in_cents_where_the_other_route_steps_in_dimes():
    """b must send at least 0.51 and a can take at most 0.52: only b's route to a, in cents,
    carries it (a's to b, in dimes, is forbidden anyway). Found by the property below, whose
    oracle counted every route in dimes then."""
    hs = [
        Holding("a", "a", "X", D("0.78"), D("0.78"), Band(D("0.78"), D("0.78"), D("1.80")), D("0.5"), D(0)),
        Holding("b", "b", "X", D("0.95"), D("0.95"), Band(D("0.83"), D("0.94"), D("0.94")), D("0.5"), D(0)),
    ]
    rs = [
        Route("a", "b", "X", "N", fee=D(0), minimum=D(0), step=D("0.1"), arrival_seconds=600),
        Route("b", "a", "X", "N", fee=D(0), minimum=D(0), step=CENT, arrival_seconds=600),
    ]
    forbidden = {("a", "b", "X")}
    assert fewest_transfers(hs, rs, D("0.02"), forbidden) == 1
    [result] = plan(hs, rs, D("0.02"), forbidden)
    assert result.complete and len(result.transfers) == 1
    assert after_positions(hs, result.transfers) == {"a": D("1.79"), "b": D("0.94")}


def test_an_empty_accounts_coarse_route_does_not_coarsen_the_others():
    """b holds 0.01 above its band and a has room for it: one transfer in cents. c's route in
    dimes carries nothing (c holds nothing), yet it made every amount whole dimes, and no plan
    was found. Found by the property below."""
    empty = Band(D("0.00"), D("0.00"), D("0.00"))
    hs = [
        Holding("a", "a", "X", D("0.00"), D("0.00"), Band(D("0.00"), D("0.00"), D("0.01")), D(0), D(0)),
        Holding("b", "b", "X", D("0.01"), D("0.01"), empty, D(0), D(0)),
        Holding("c", "c", "X", D("0.00"), D("0.00"), empty, D(0), D(0)),
    ]
    rs = [
        Route("b", "a", "X", "N", fee=D(0), minimum=D(0), step=CENT, arrival_seconds=600),
        Route("c", "b", "X", "N", fee=D(0), minimum=D(0), step=D("0.1"), arrival_seconds=600),
    ]
    assert fewest_transfers(hs, rs, D("0.02"), set()) == 1
    [result] = plan(hs, rs, D("0.02"))
    assert result.complete and len(result.transfers) == 1
    assert after_positions(hs, result.transfers) == {"a": D("0.01"), "b": D("0.00"), "c": D("0.00")}


@PROPERTY
@given(problems(max_accounts=3))
def test_the_plan_restores_the_bands_whenever_possible_with_the_fewest_transfers(problem):
    hs, rs, share, forbidden = problem
    fewest = fewest_transfers(hs, rs, share, forbidden)
    [result] = plan(hs, rs, share, forbidden)

    event(f"fewest={fewest}")
    assert result.complete == (fewest is not None)
    if fewest is not None:
        assert len(result.transfers) == fewest


@PROPERTY
@given(problems(max_accounts=3))
def test_a_partial_plan_helps_whenever_some_single_transfer_could(problem):
    hs, rs, share, forbidden = problem
    [result] = plan(hs, rs, share, forbidden)
    assume(not result.complete)
    event(f"partial transfers={len(result.transfers)}")
    # Some route can carry its smallest amount from an account that can spare it to one that
    # is short and has room for it: then the plan must not be empty.
    by = {h.account: h for h in hs}
    unit = max((r.step for r in rs), default=CENT)
    for r in rs:
        s, d = by[r.source], by[r.destination]
        if (r.source, r.destination, "X") in forbidden or d.band.status(d.position) != BELOW:
            continue
        smallest = _ceil(max(r.minimum, r.fee / share, r.fee + unit) / unit) * unit
        if (
            smallest <= s.sendable
            and s.position - smallest >= s.band.minimum
            and d.position + smallest - r.fee <= d.band.maximum
        ):
            assert result.transfers, f"{r} could have helped"
