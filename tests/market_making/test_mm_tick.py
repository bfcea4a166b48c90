"""The market maker's tick on the demo's paper venues: what it quotes, what it leaves alone, and
how it keeps its records in line with the venue."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from bots.engine.books import sweep
from bots.engine.market_making.quote_config import as_dict
from bots.market_making import quoter
from bots.market_making.operator_commands import change_quote_settings
from bots.models import Fill, Hedge, Market, Order, PaperOrder, QuoteSettings
from bots.simulation.paper_flow import user_trade, users_account
from bots.venues import venue_for
from bots.venues.paper import PaperVenue
from tests.support.quoting import (
    PassThrough,
    market_row,
    now_ms,
    outside_mid,
    quoted,
    resting,
    set_outside_mid,
    tick,
    wrap_venue,
)

pytestmark = pytest.mark.django_db
BPS = Decimal("10000")


def test_every_level_clears_the_hedge_floor_for_its_cumulative_size(running_market):
    summary = market_row(running_market).quote_summary
    book = venue_for(running_market.hedge_account).fetch_order_book(running_market.symbol)
    taker, buffer = Decimal("0.001"), Decimal("2") / BPS  # the outside venue's fee, the demo's buffer

    asks = [lv for lv in summary["levels"] if lv["side"] == "sell"]
    bids = [lv for lv in summary["levels"] if lv["side"] == "buy"]
    assert len(asks) == len(bids) == 5
    for levels, hedge_side in ((asks, book["asks"]), (bids, book["bids"])):
        cumulative = Decimal("0")
        for level in levels:
            cumulative += Decimal(level["amount"])
            vwap = sweep(hedge_side, cumulative)[0]
            price = Decimal(level["price"])
            if level["side"] == "sell":
                assert price >= vwap * (1 + taker) / (1 - buffer)
            else:
                assert price <= vwap * (1 - taker) / (1 + buffer)
            assert Decimal(level["edge_bps"]) >= 2
    assert quoted(running_market) == {
        (lv["side"], Decimal(lv["price"]), Decimal(lv["amount"])) for lv in summary["levels"]
    }
    assert Decimal(summary["reference"]) == outside_mid(running_market)


def test_a_second_tick_changes_nothing(running_market):
    orders, paper_orders = Order.objects.count(), PaperOrder.objects.count()
    before = [o["id"] for o in resting(running_market)]

    assert tick(running_market) == Market.RUNNING

    assert [o["id"] for o in resting(running_market)] == before
    assert (Order.objects.count(), PaperOrder.objects.count()) == (orders, paper_orders)


def test_a_move_within_the_refresh_tolerance_keeps_every_order(running_market):
    before = {o["id"] for o in resting(running_market)}
    # 1 bp: within the 3 bps tolerance, and the nearest ask (15 bps out) still clears the
    # floor, which sits 13 bps from the outside mid.
    set_outside_mid(running_market, outside_mid(running_market) * (1 + Decimal("1") / BPS))

    tick(running_market, now_ms() + 60_000)  # long past the refresh time

    assert {o["id"] for o in resting(running_market)} == before


def test_a_larger_move_replaces_orders_once_they_rested_the_refresh_time(running_market):
    mid = outside_mid(running_market)
    set_outside_mid(running_market, mid * (1 - Decimal("8") / BPS))
    bids = sorted((o for o in resting(running_market) if o["side"] == "buy"), key=lambda o: -o["price"])
    asks = [o["id"] for o in resting(running_market) if o["side"] == "sell"]

    tick(running_market)  # the orders are young: only those the move made unprofitable go

    now = {o["id"] for o in resting(running_market)}
    # The two nearest bids (15 and 20 bps under the old mid) are 7 and 12 bps under the new
    # one: inside the 13 bps floor. The rest wait for the refresh time.
    assert not {bids[0]["id"], bids[1]["id"]} & now
    assert {o["id"] for o in bids[2:]} <= now and set(asks) <= now
    assert Order.objects.filter(error="no longer clears the hedge floor").count() == 2
    assert len(now) == 10

    tick(running_market, now_ms() + 11_000)  # the refresh time (10 s) has passed

    replaced = {o["id"] for o in resting(running_market)}
    assert replaced.isdisjoint({o["id"] for o in bids[2:]} | set(asks))
    new_mid = outside_mid(running_market)
    best_ask = min(o["price"] for o in resting(running_market) if o["side"] == "sell")
    assert (best_ask - new_mid) / new_mid * BPS == pytest.approx(15, abs=0.1)


def test_a_settings_change_takes_effect_at_the_next_tick(running_market, operator):
    settings = QuoteSettings.objects.get(market=running_market)
    config = settings.config().replace(levels=3, ask_spread_bps=Decimal("20"))
    change_quote_settings(running_market, config, expected_version=settings.version, user=operator)

    tick(running_market)

    asks = sorted(o["price"] for o in resting(running_market) if o["side"] == "sell")
    assert len(asks) == 3 and len([o for o in resting(running_market) if o["side"] == "buy"]) == 3
    mid = outside_mid(running_market)
    assert (asks[0] - mid) / mid * BPS == pytest.approx(20, abs=0.1)


def test_an_order_cancelled_outside_the_bot_is_noticed_and_replaced(running_market):
    victim = resting(running_market)[0]
    PaperVenue(running_market.mm_account).cancel_order(victim["id"], running_market.symbol)

    tick(running_market)

    assert Order.objects.get(exchange_order_id=victim["id"]).state == Order.CANCELED
    assert (victim["side"], victim["price"], victim["remaining"]) in quoted(running_market)
    assert len(resting(running_market)) == 10


def test_a_fill_is_recorded_hedged_and_its_side_waits_the_filled_order_delay(
    running_market, django_capture_on_commit_callbacks
):
    best_ask = min((o for o in resting(running_market) if o["side"] == "sell"), key=lambda o: o["price"])
    user_trade(running_market, "buy", best_ask["remaining"])
    queued = []

    with django_capture_on_commit_callbacks(execute=True):
        quoter.run_tick(running_market.pk, on_hedge=queued.append)

    fill = Fill.objects.get()
    assert (fill.order_id, fill.side, fill.amount) == (best_ask["id"], "sell", best_ask["remaining"])
    assert queued == [fill.hedge.pk]
    assert Order.objects.get(exchange_order_id=best_ask["id"]).state == Order.CLOSED
    assert len([o for o in resting(running_market) if o["side"] == "sell"]) == 4  # 2 s delay
    summary = market_row(running_market).quote_summary
    assert summary["sides"]["sell"]["why"].startswith("filled ")

    tick(running_market, now_ms() + 2_500)

    assert len([o for o in resting(running_market) if o["side"] == "sell"]) == 5


def test_an_order_that_fills_while_being_cancelled_still_gets_its_fill_and_hedge(
    running_market, monkeypatch, django_capture_on_commit_callbacks
):
    best_ask = min((o for o in resting(running_market) if o["side"] == "sell"), key=lambda o: o["price"])
    class FillsFirst(PassThrough):
        """The MM venue, where a user lifts the best ask just as the bot cancels it."""

        def cancel_order(self, order_id, symbol=None, params=None):
            if order_id == best_ask["id"]:
                user_trade(running_market, "buy", best_ask["remaining"])
            return self.venue.cancel_order(order_id, symbol, params)

    wrap_venue(monkeypatch, running_market.mm_account_id, FillsFirst)
    # Up 20 bps: every ask but the last is now under the floor and is cancelled.
    set_outside_mid(running_market, outside_mid(running_market) * (1 + Decimal("20") / BPS))
    queued = []

    with django_capture_on_commit_callbacks(execute=True):
        quoter.run_tick(running_market.pk, on_hedge=queued.append)

    fill = Fill.objects.get(order_id=best_ask["id"])
    assert fill.amount == best_ask["remaining"]
    assert queued == [fill.hedge.pk] and Hedge.objects.get().fill == fill
    assert Order.objects.get(exchange_order_id=best_ask["id"]).state == Order.CLOSED


def test_a_send_that_timed_out_is_found_by_its_client_order_id(running_market, monkeypatch):
    from tests.support.quoting import break_venue

    PaperVenue(running_market.mm_account).cancel_order(resting(running_market)[0]["id"], running_market.symbol)
    budget = break_venue(monkeypatch, running_market.mm_account, "create_order", ccxt.RequestTimeout)

    assert tick(running_market) == Market.DEGRADED
    assert budget["left"] == 0
    [sending] = Order.objects.filter(state=Order.SENDING)

    monkeypatch.undo()
    tick(running_market, now_ms() + 31_000)  # past the paper venue's settle time

    sending.refresh_from_db()
    assert sending.state == Order.FAILED and sending.error == "never reached the venue"
    assert len(resting(running_market)) == 10


def test_an_order_that_reached_the_venue_after_its_send_gave_up_is_adopted(running_market):
    order = Order.objects.create(
        account=running_market.mm_account, market=running_market, client_order_id="q-late-1",
        side="buy", price=Decimal("60000"), amount=Decimal("0.01"), state=Order.FAILED,
    )
    placed = PaperVenue(running_market.mm_account).create_order(
        running_market.symbol, "limit", "buy", Decimal("0.01"), Decimal("60000"),
        {"clientOrderId": "q-late-1"},
    )

    tick(running_market)

    order.refresh_from_db()
    # Adopted with its venue id, then cancelled: a sixth bid is more than the levels wanted.
    assert (order.exchange_order_id, order.state) == (placed["id"], Order.CANCELED)
    assert order.error == "more orders than levels on its side"
    assert len(resting(running_market)) == 10


# --- several markets ------------------------------------------------------------------------


@pytest.fixture
def second_market(running_market):
    """ETH/USDT between a second own paper venue and a second outside one.

    Not the first market's venues: a paper venue keys order ids per venue but draws them per
    symbol, so two symbols on one paper venue collide (reported with issue 3).
    """
    from bots.models import Account, PaperBalance, PaperMarket, Venue
    from bots.simulation.paper_flow import move_outside_markets

    rules = {"base": "ETH", "quote": "USDT", "price_tick": Decimal("0.01"), "amount_step": Decimal("0.0001"),
             "min_amount": Decimal("0.0001"), "min_cost": Decimal("5"), "taker_fee": Decimal("0.001")}
    own2 = Venue.objects.create(name="own2", label="Second exchange", kind=Venue.PAPER)
    external2 = Venue.objects.create(name="external2", label="Second outside", kind=Venue.PAPER)
    PaperMarket.objects.create(venue=own2, symbol="ETH/USDT", **rules)
    PaperMarket.objects.create(
        venue=external2, symbol="ETH/USDT", **rules, maker_fee=Decimal("0.001"),
        reference_price=Decimal("3000"),
    )
    mm = Account.objects.create(venue=own2, name="MM bot 2", role=Account.MARKET_MAKING)
    hedge = Account.objects.create(venue=external2, name="Hedging bot 2", role=Account.HEDGING)
    outside = Account.objects.create(venue=external2, name="Outside 2", role=Account.LIQUIDITY)
    for account, eth, usdt in [(mm, "40", "130000"), (hedge, "40", "130000"), (outside, "1e6", "1e9")]:
        PaperBalance.objects.create(account=account, asset="ETH", free=Decimal(eth))
        PaperBalance.objects.create(account=account, asset="USDT", free=Decimal(usdt))
    market = Market.objects.create(slug="eth-usdt", symbol="ETH/USDT", mm_account=mm, hedge_account=hedge)
    QuoteSettings.objects.create(market=market, level_amount=Decimal("0.5"))
    move_outside_markets(second=int(now_ms() / 1000) + 1)
    return Market.objects.get(pk=market.pk)


def test_markets_on_several_venues_quote_independently(running_market, second_market):
    assert tick(second_market) == Market.RUNNING

    assert len(resting(second_market)) == 10 and len(resting(running_market)) == 10
    assert {o["symbol"] for o in resting(second_market)} == {"ETH/USDT"}


def test_a_failing_venue_degrades_only_its_own_market(running_market, second_market):
    from bots.market_making.tasks import mm_tick
    from bots.models import Venue

    Venue.objects.filter(name="own2").update(fault="ExchangeNotAvailable")

    states = [mm_tick.apply(args=(m.pk,)).get() for m in (second_market, running_market)]

    assert states == [Market.DEGRADED, Market.RUNNING]
    assert market_row(second_market).state_reason.startswith("ExchangeNotAvailable:")


def test_settings_the_engine_refuses_degrade_that_market_and_cancel_its_quotes(running_market, second_market):
    tick(second_market)
    QuoteSettings.objects.filter(market=second_market).update(levels=0)  # bypassing the form

    assert tick(second_market) == Market.DEGRADED
    assert tick(running_market) == Market.RUNNING

    assert market_row(second_market).state_reason == "settings refused: levels: Order levels must be at least 1"
    assert resting(second_market) == [] and len(resting(running_market)) == 10


def test_the_simulated_users_account_is_never_quoted_for(running_market):
    # A sanity check on the fixture the tests above rely on: users and bot are different accounts.
    assert users_account(running_market).pk != running_market.mm_account_id
    assert as_dict(QuoteSettings.objects.get(market=running_market).config())["levels"] == 5


@pytest.mark.parametrize("mode", ["avellaneda", "mirror"])
def test_every_pricing_mode_quotes_clear_of_the_floor_on_paper(running_market, operator, mode):
    row = QuoteSettings.objects.get(market=running_market)
    change_quote_settings(running_market, row.config().replace(mode=mode), expected_version=0, user=operator)

    assert tick(running_market) == Market.RUNNING

    summary = market_row(running_market).quote_summary
    assert summary["mode"] == mode and len(summary["levels"]) == len(resting(running_market)) == 10
    assert all(Decimal(lv["edge_bps"]) >= 2 for lv in summary["levels"])
    if mode == "avellaneda":
        assert summary["reservation_bps"] == "0"  # a flat inventory: 2 BTC is half the account
    else:
        book = venue_for(running_market.hedge_account).fetch_order_book(running_market.symbol)
        asks = sorted((lv for lv in summary["levels"] if lv["side"] == "sell"), key=lambda lv: Decimal(lv["price"]))
        assert [Decimal(lv["amount"]) for lv in asks] == [a / 2 for _, a in book["asks"][:5]]


def calls_of(monkeypatch, market) -> list[tuple[str, str]]:
    """(method, side) of every order call the MM venue gets, in order."""
    calls: list[tuple[str, str]] = []
    sides = {o["id"]: o["side"] for o in resting(market)}

    class Recorded(PassThrough):
        def create_order(self, symbol, type, side, *args, **kwargs):
            calls.append(("create", side))
            return self.venue.create_order(symbol, type, side, *args, **kwargs)

        def cancel_order(self, order_id, *args, **kwargs):
            calls.append(("cancel", sides[order_id]))
            return self.venue.cancel_order(order_id, *args, **kwargs)

    wrap_venue(monkeypatch, market.mm_account_id, Recorded)
    return calls


def test_unprofitable_orders_go_first_and_replaced_ones_after_their_replacements(running_market, monkeypatch):
    calls = calls_of(monkeypatch, running_market)
    set_outside_mid(running_market, outside_mid(running_market) * (1 - Decimal("8") / BPS))

    tick(running_market, now_ms() + 11_000)  # every order drifted and rested the refresh time

    # Down 8 bps: the two nearest bids went under the floor and go first; the rest, merely
    # drifted, are cancelled once the new orders are in.
    assert calls[:2] == [("cancel", "buy"), ("cancel", "buy")]
    first_create = calls.index(("create", "buy"))
    assert all(c[0] == "create" for c in calls[2:first_create + 10])
    assert all(c[0] == "cancel" for c in calls[first_create + 10:]) and len(calls) == 2 + 10 + 8
    assert len(resting(running_market)) == 10


def test_replaced_orders_go_first_when_the_budget_cannot_hold_both(running_market, operator, monkeypatch):
    row = QuoteSettings.objects.get(market=running_market)
    change_quote_settings(
        running_market, row.config().replace(ask_budget_base=Decimal("0.5")), expected_version=0, user=operator
    )
    tick(running_market)  # the new settings replace every order: 0.5 BTC of asks rests
    calls = calls_of(monkeypatch, running_market)
    set_outside_mid(running_market, outside_mid(running_market) * (1 - Decimal("8") / BPS))

    tick(running_market, now_ms() + 11_000)

    asks = [c for c in calls if c[1] == "sell"]
    assert asks == [("cancel", "sell")] * 5 + [("create", "sell")] * 5
