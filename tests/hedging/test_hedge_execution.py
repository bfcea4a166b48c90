"""One hedge: a limit IOC at the protection price, split under the notional cap, a bounded ladder
for what an IOC leaves, and each venue error handled by its ccxt class."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from bots.engine.rules import BPS
from bots.hedging import hedger
from bots.models import AuditEntry, Hedge, HedgeOrder, HedgeSettings, PaperOrder
from bots.venues import faults, venue_for
from tests.support.hedging_world import one_fill, run_until_done, set_faults

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def fresh_faults():
    faults.reset()


def test_a_fill_is_hedged_by_an_ioc_at_the_protection_price(hedging_market):
    book = venue_for(hedging_market.hedge_account).fetch_order_book("BTC/USDT")
    hedge = one_fill(hedging_market, "buy", "0.02")  # the MM bot sold: the hedge buys

    assert run_until_done(hedge.pk) == [Hedge.FILLED]

    [order] = HedgeOrder.objects.all()
    [sent] = PaperOrder.objects.filter(account=hedging_market.hedge_account)
    assert (sent.type, sent.time_in_force, sent.client_order_id) == ("limit", "IOC", order.client_order_id)
    assert order.client_order_id == f"{hedge.client_order_id}-1"
    assert order.expected_price == book["asks"][0][0]  # 0.02 fits the best ask
    assert order.limit_price <= order.expected_price * (1 + D("20") / BPS)  # 20 bps: the demo's slippage
    hedge.refresh_from_db()
    assert (hedge.state, hedge.filled, hedge.average_price) == (Hedge.FILLED, D("0.02"), order.cost / order.filled)


def test_a_big_fill_is_split_into_orders_under_the_notional_cap(hedging_market):
    HedgeSettings.objects.create(market=hedging_market, max_notional=D("2000"))
    hedge = one_fill(hedging_market, "sell", "0.1")  # about 6,500 USDT: four orders

    assert run_until_done(hedge.pk) == [Hedge.FILLED]

    orders = list(HedgeOrder.objects.order_by("pk"))
    assert len(orders) == 4
    assert [o.client_order_id for o in orders] == [f"{hedge.client_order_id}-{n}" for n in (1, 2, 3, 4)]
    assert sum(o.amount for o in orders) == sum(o.filled for o in orders) == D("0.1")
    assert all(o.side == "sell" and o.amount * o.limit_price <= D("2000") for o in orders)


def test_what_an_ioc_leaves_is_tried_again_one_step_wider(hedging_market):
    set_faults("external", {"partial": 1.0}, seed=3)
    hedge = one_fill(hedging_market, "buy", "0.05")

    outcome = hedger.execute_hedge(hedge.pk)

    assert (outcome.state, outcome.again_in) == (Hedge.PENDING, 0.3)  # the default 300 ms pause
    first = HedgeOrder.objects.get()
    assert D(0) < first.filled < D("0.05") and first.status == "expired"
    set_faults("external", None)
    assert run_until_done(hedge.pk) == [Hedge.FILLED]
    second = HedgeOrder.objects.order_by("pk").last()
    assert (second.step, second.amount) == (1, D("0.05") - first.filled)
    # Step 1 allows 10 bps more than step 0.
    assert second.limit_price - second.expected_price > first.limit_price - first.expected_price


def test_when_the_ladder_runs_out_the_hedge_fails_for_an_operator(hedging_market):
    HedgeSettings.objects.create(market=hedging_market, ladder_steps=1)
    set_faults("external", {"partial": 1.0}, seed=3)
    hedge = one_fill(hedging_market, "buy", "0.05")

    assert run_until_done(hedge.pk) == [Hedge.PENDING, Hedge.FAILED]

    hedge.refresh_from_db()
    assert hedge.state == Hedge.FAILED and "ladder exhausted" in hedge.error
    assert HedgeOrder.objects.count() == 2
    assert AuditEntry.objects.filter(action="hedge_failed", subject=f"hedge {hedge.pk}").exists()


@pytest.mark.parametrize("kind", ["timeout", "rate_limit", "unavailable", "outage"])
def test_a_transient_error_leaves_the_hedge_pending_for_a_retry(hedging_market, kind):
    set_faults("external", {kind: 1.0}, seed=1)
    hedge = one_fill(hedging_market, "buy", "0.02")

    with pytest.raises(hedger.HedgeRetry):
        hedger.execute_hedge(hedge.pk)

    hedge.refresh_from_db()
    assert hedge.state == Hedge.PENDING and hedge.error
    set_faults("external", None)
    faults.reset()
    assert run_until_done(hedge.pk) == [Hedge.FILLED]


@pytest.mark.parametrize(
    ("fault", "error"),
    [("InsufficientFunds", "InsufficientFunds"), ("InvalidOrder", "InvalidOrder"),
     ("BadSymbol", "BadSymbol"), ("AuthenticationError", "AuthenticationError"),
     ("PermissionDenied", "PermissionDenied")],
)
def test_a_permanent_error_fails_the_hedge_at_once(hedging_market, monkeypatch, fault, error):
    hedge = one_fill(hedging_market, "buy", "0.02")
    from bots.venues.paper import PaperVenue

    def refuse(self, *args, **kwargs):
        raise getattr(ccxt, fault)("refused by the venue")

    monkeypatch.setattr(PaperVenue, "create_order", refuse)

    assert hedger.execute_hedge(hedge.pk).state == Hedge.FAILED

    hedge.refresh_from_db()
    assert hedge.error.startswith(f"{error}:") and hedge.attempts == 1
    assert HedgeOrder.objects.get().state == HedgeOrder.REJECTED  # refused: nothing was placed


def test_an_order_accepted_whose_answer_was_lost_is_found_not_sent_again(hedging_market):
    set_faults("external", {"timeout_after_accept": 1.0}, seed=1)
    hedge = one_fill(hedging_market, "buy", "0.02")

    with pytest.raises(hedger.HedgeRetry):
        hedger.execute_hedge(hedge.pk)
    assert HedgeOrder.objects.get().state == HedgeOrder.SENDING  # the venue has it; we do not know
    assert PaperOrder.objects.filter(account=hedging_market.hedge_account).count() == 1

    set_faults("external", None)
    assert run_until_done(hedge.pk) == [Hedge.FILLED]
    assert PaperOrder.objects.filter(account=hedging_market.hedge_account).count() == 1
    assert HedgeOrder.objects.get().state == HedgeOrder.DONE


def test_an_unclassified_exchange_error_is_retried_then_escalated(hedging_market):
    # binance answers a 503 with {"code": -1008} ("server busy"): ccxt raises a plain
    # ExchangeError, neither transient nor permanent by class. The order may or may not exist:
    # each retry looks it up first, and after five such errors a person is asked.
    set_faults("external", {"reject": 1.0}, seed=1)
    hedge = one_fill(hedging_market, "buy", "0.02")

    seen = run_until_done(hedge.pk)

    assert seen == ["retry"] * 4 + [Hedge.FAILED]
    hedge.refresh_from_db()
    assert "5 unclassified venue errors in a row" in hedge.error and "-1008" in hedge.error
    assert PaperOrder.objects.filter(account=hedging_market.hedge_account).count() == 0
    assert HedgeOrder.objects.filter(state=HedgeOrder.UNSENT).count() == 4  # looked up: never arrived


def test_bad_hedge_settings_fail_with_their_bounds_and_send_nothing(hedging_market):
    HedgeSettings.objects.create(market=hedging_market, ladder_steps=10, ladder_step_bps=D("200"))
    hedge = one_fill(hedging_market, "buy", "0.02")

    assert hedger.execute_hedge(hedge.pk).state == Hedge.FAILED

    hedge.refresh_from_db()
    assert "hedge settings out of bounds" in hedge.error and "at most 1000 bps" in hedge.error
    assert not HedgeOrder.objects.exists()


def test_a_second_run_while_one_holds_the_hedge_does_nothing(hedging_market):
    hedge = one_fill(hedging_market, "buy", "0.02")
    Hedge.objects.filter(pk=hedge.pk).update(state=Hedge.SENDING, attempts=1)

    assert hedger.execute_hedge(hedge.pk).state == Hedge.SENDING
    assert not HedgeOrder.objects.exists()


def test_hedge_settings_out_of_bounds_are_refused_where_they_are_edited(hedging_market):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        HedgeSettings(market=hedging_market, ladder_steps=11, max_notional=D("0")).full_clean()

    assert "ladder_steps" in caught.value.message_dict and "max_notional" in caught.value.message_dict
    with pytest.raises(ValidationError, match="at most 1000 bps"):
        HedgeSettings(market=hedging_market, ladder_steps=10, ladder_step_bps=D("200")).full_clean()
    assert not HedgeSettings.objects.exists()
