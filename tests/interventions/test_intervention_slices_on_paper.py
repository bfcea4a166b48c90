"""An approved intervention's slices on the paper venues: each a limit IOC within the price
limit, never more than the participation cap; pause, resume and cancel at any time; the kill
switch stops it; on the own book its trades are not taken for the MM bot's fills and hedged. And
one on the HollaEx stub, whose order answers tell no cost: each slice recorded at what it cost;
one on the binance stub, whose order lookup tells no fee: a slice found after its answer was
lost recorded with its fee."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.hedging.capture import capture_fills
from bots.interventions import execution, workflow
from bots.market_making import operator_commands
from bots.models import AuditEntry, Fill, Hedge, Intervention, InterventionOrder, PaperBalance
from bots.simulation.paper_flow import users_account
from bots.venues import venue_for
from bots.venues.paper import PaperVenue
from tests.support.interventions import advance, approved, read_balances, user_fills

pytestmark = pytest.mark.django_db
I = Intervention  # noqa: E741


@pytest.fixture
def market(running_market):
    read_balances(running_market)
    running_market.refresh_from_db()
    user_fills(running_market, "sell", ["5"])  # recent volume: the cap allows 1 BTC at 20%
    return running_market


def btc(account) -> D:
    return PaperBalance.objects.get(account=account, asset="BTC").free


def test_each_due_slice_buys_within_the_cap_on_the_hedge_venue_until_it_completes(
    market, operator, second_operator
):
    iv = approved(market, operator, second_operator, kind=I.BUYBACK, where="hedge",
                  amount="0.5", minutes=5)
    before = btc(market.hedge_account)
    assert len(iv.plan) == 5 and sum(D(a) for _, a in iv.plan) == D("0.5")

    execution.run_due(advance(iv, 0).pk)  # the first slice may not be due yet
    iv = advance(iv, 150)  # half way
    outcome = execution.run_due(iv.pk)

    iv.refresh_from_db()
    due = sum(D(a) for t, a in iv.plan if t <= 150_000 + 1000)
    assert D(0) < iv.filled <= due
    assert outcome.next_in is not None
    orders = list(InterventionOrder.objects.filter(intervention=iv))
    assert all(o.state == InterventionOrder.DONE and o.limit_price == iv.price_limit for o in orders)
    assert all(o.client_order_id.startswith(f"ballast-iv{iv.pk}-") for o in orders)
    assert iv.cost > 0 and iv.fee_quote > 0
    assert iv.cost / iv.filled <= iv.price_limit

    iv = advance(iv, 200)  # past its five minutes
    execution.run_due(iv.pk)
    iv.refresh_from_db()
    assert (iv.state, iv.filled) == (I.COMPLETED, D("0.5"))
    assert btc(market.hedge_account) == before + D("0.5") - sum(
        o.fee for o in InterventionOrder.objects.filter(intervention=iv) if o.fee_currency == "BTC"
    )
    assert AuditEntry.objects.filter(action="intervention completed").count() == 1


def test_a_slice_never_takes_more_than_the_participation_cap(market, operator, second_operator):
    Fill.objects.filter(market=market).delete()
    user_fills(market, "sell", ["1"])  # 20% of 1 BTC: 0.2 a slice at most
    iv = approved(market, operator, second_operator, kind=I.BUYBACK, where="hedge",
                  amount="1", minutes=2)
    iv = advance(iv, 119)  # the whole plan is due

    execution.run_due(iv.pk)

    iv.refresh_from_db()
    assert iv.filled == D("0.2")
    assert iv.state == I.RUNNING  # the rest waits for later slices


def test_a_paused_intervention_sends_nothing_and_resumes_without_counting_the_pause(
    market, operator, second_operator
):
    iv = approved(market, operator, second_operator, kind=I.BUYBACK, where="hedge",
                  amount="0.4", minutes=4)
    operator_commands.pause_intervention(iv.pk, reason="news due", user=operator)
    advance(iv, 300)

    outcome = execution.run_due(iv.pk)

    assert "paused" in outcome.message and outcome.next_in is None
    assert not InterventionOrder.objects.filter(intervention=iv).exists()
    operator_commands.resume_intervention(iv.pk, reason="news out", user=second_operator)
    iv.refresh_from_db()
    assert iv.state == I.RUNNING and iv.paused_ms >= 0
    execution.run_due(advance(iv, 60).pk)
    assert I.objects.get(pk=iv.pk).filled > 0
    assert [e.action for e in AuditEntry.objects.filter(action__in=[
        "intervention paused", "intervention resumed"]).order_by("id")] == [
        "intervention paused", "intervention resumed"]


def test_a_cancelled_intervention_stops_at_once_keeping_what_filled(
    market, operator, second_operator
):
    iv = approved(market, operator, second_operator, kind=I.BUYBACK, where="hedge",
                  amount="0.4", minutes=4)
    execution.run_due(advance(iv, 90).pk)
    filled = I.objects.get(pk=iv.pk).filled
    assert filled > 0

    done = operator_commands.cancel_intervention(iv.pk, second_operator, "enough")
    execution.run_due(advance(iv, 200).pk)

    iv.refresh_from_db()
    assert (iv.state, iv.filled) == (I.CANCELLED, filled)
    assert "cancelled after" in done.message


def test_the_kill_switch_pauses_a_running_intervention_and_no_slice_goes(
    market, operator, second_operator
):
    iv = approved(market, operator, second_operator, kind=I.BUYBACK, where="hedge",
                  amount="0.4", minutes=4)

    outcome = operator_commands.kill_market(market, reason="venue trouble", user=operator)

    assert "1 intervention(s) paused" in outcome.message
    iv.refresh_from_db()
    assert iv.state == I.PAUSED and "venue trouble" in iv.state_note
    execution.run_due(advance(iv, 200).pk)
    assert not InterventionOrder.objects.filter(intervention=iv).exists()
    with pytest.raises(workflow.InterventionError, match="kill switch"):
        workflow.resume(iv.pk, reason="go", user=operator)


def test_a_slice_due_while_the_desk_is_killed_pauses_instead_of_trading(
    market, operator, second_operator
):
    iv = approved(market, operator, second_operator, kind=I.BUYBACK, where="hedge",
                  amount="0.4", minutes=4)
    operator_commands.kill_all(reason="drill", user=operator)
    iv.refresh_from_db()
    assert iv.state == I.PAUSED
    # Even one that a race left running stops at its next slice.
    I.objects.filter(pk=iv.pk).update(state=I.RUNNING)

    execution.run_due(advance(iv, 200).pk)

    assert I.objects.get(pk=iv.pk).state == I.PAUSED
    assert not InterventionOrder.objects.filter(intervention=iv).exists()


def test_on_the_own_book_its_trades_are_not_captured_as_fills_nor_hedged(
    market, operator, second_operator
):
    # A user's bid resting on the own book for the unwind to sell into.
    PaperVenue(users_account(market)).create_order(
        market.symbol, "limit", "buy", D("1"), market.reference_price
    )
    fills_before, hedges_before = Fill.objects.count(), Hedge.objects.count()
    mm_before = btc(market.mm_account)
    iv = approved(market, operator, second_operator, kind=I.UNWIND, where="own",
                  amount="0.2", minutes=2)
    assert iv.account == market.mm_account

    execution.run_due(advance(iv, 119).pk)
    capture_fills(market, venue_for(market.mm_account), on_hedge=lambda hedge_id: None)

    iv.refresh_from_db()
    assert iv.filled > 0
    assert (Fill.objects.count(), Hedge.objects.count()) == (fills_before, hedges_before)
    assert btc(market.mm_account) < mm_before


def test_its_slices_are_in_the_market_history_as_a_pnl_part_of_their_own(
    market, operator, second_operator
):
    from dashboard.market_making.market_history import market_history

    iv = approved(market, operator, second_operator, kind=I.BUYBACK, where="hedge",
                  amount="0.4", minutes=2)
    execution.run_due(advance(iv, 119).pk)
    assert I.objects.get(pk=iv.pk).filled > 0

    pnl = market_history(market)["pnl"]

    assert pnl is not None and D(pnl["intervention"][-1]) != 0
    parts = sum(D(pnl[p][-1]) for p in ("spread", "hedge", "intervention", "fees", "mtm"))
    assert abs(parts - D(pnl["total"][-1])) < D("0.00001")  # each part rounded to 6 places
    assert D(pnl["fees"][-1]) < 0  # the slices' taker fees


def test_slices_on_hollaex_are_recorded_at_what_they_cost(market, operator, second_operator):
    """HollaEx's order answers tell no cost (bots/venues/order_lookup.py:with_costs)."""
    from bots.models import Account
    from bots.simulation.stub_exchanges.hollaex import HollaExStub
    from tests.support.hollaex_world import on_hollaex

    with HollaExStub(balances={"BTC": "1", "USDT": "100000"}) as stub:
        for price in ("65010", "65020"):
            stub.seed_liquidity("sell", price, "0.1")
        market = on_hollaex(market, stub, Account.HEDGING)
        read_balances(market)
        iv = approved(market, operator, second_operator, kind=I.BUYBACK, where="hedge",
                      amount="0.15", minutes=2)
        I.objects.filter(pk=iv.pk).update(price_limit=D("66000"))  # above both of the stub's asks
        execution.run_due(advance(iv, 119).pk)  # the whole plan is due: one slice of 0.15

        iv.refresh_from_db()
        trades = [t for t in stub.trades if t.account == "bot"]
        assert iv.filled == D("0.15")
        assert iv.cost == sum(t.cost for t in trades) == D("0.1") * 65010 + D("0.05") * 65020
        assert stub.balance("USDT")[0] == D("100000") - iv.cost


def test_a_slice_found_after_its_answer_was_lost_is_recorded_with_its_fee(market, operator, second_operator):
    """binance's order lookup tells no fee (bots/venues/order_lookup.py:with_costs)."""
    import time

    from bots.models import Market
    from bots.simulation.stub_exchanges.binance import BinanceStub
    from tests.support.ccxt_accounts import stub_account

    with BinanceStub(balances={"BTC": "1", "USDT": "100000"}) as stub:
        stub.seed_liquidity("sell", "65010", "0.5")
        account = stub_account(stub, enableRateLimit=False, timeout=300)
        Market.objects.filter(pk=market.pk).update(hedge_account=account)
        market = Market.objects.get(pk=market.pk)
        read_balances(market)
        iv = approved(market, operator, second_operator, kind=I.BUYBACK, where="hedge",
                      amount="0.15", minutes=2)
        I.objects.filter(pk=iv.pk).update(price_limit=D("66000"))
        stub.delay_next(0.6, only="POST /api/v3/order")  # answered after the client's 300 ms

        with pytest.raises(execution.SliceRetry, match="RequestTimeout"):
            execution.run_due(advance(iv, 119).pk)
        deadline = time.monotonic() + 5
        while not any(o.account == "bot" for o in list(stub.orders.values())):
            assert time.monotonic() < deadline, "the delayed order never reached the stub"
            time.sleep(0.05)
        execution.run_due(advance(iv, 119).pk)  # found by its client id, recorded

        [row] = InterventionOrder.objects.filter(intervention=iv)
        assert (row.state, row.filled) == (InterventionOrder.DONE, D("0.15"))
        assert (row.fee, row.fee_currency) == (D("0.00015"), "BTC")
        assert stub.balance("BTC")[0] == D("1") + D("0.15") - row.fee
