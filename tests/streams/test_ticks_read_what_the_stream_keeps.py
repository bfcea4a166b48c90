"""What a tick, a health sample and a balance snapshot read from the stream process's records
instead of asking the venue (the binance stub through ccxt, the records written here as the
stream process writes them), and where the venue's own answer stays the newer news."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.desk import health
from bots.market_making import quoter
from bots.models import Order
from bots.streams import work
from bots.treasury.balances import refresh_balances
from bots.venues import stream_state as state
from bots.venues import venue_for
from tests.support.streams import make_on_stub

pytestmark = pytest.mark.django_db

D = Decimal
SYMBOL = "BTC/USDT"


@pytest.fixture
def market(demo_market, stubs, redis_client):
    market = make_on_stub(demo_market, stubs)
    for key in (f"ballast:throttle:open-orders-check:{market.pk}", f"ballast:stream:fills:{market.mm_account_id}",
                f"ballast:stream:orders:{market.mm_account_id}", f"ballast:stream:book:{market.mm_account.venue_id}:{SYMBOL}",
                f"ballast:stream:booklive:{market.mm_account.venue_id}:{SYMBOL}"):
        redis_client.delete(key)
    return market


def recorded_order(market, client_id: str, price: str) -> Order:
    """An ask of 0.01 the bot sent and recorded, as a tick does."""
    placed = venue_for(market.mm_account).create_order(SYMBOL, "limit", "sell", D("0.01"), D(price),
                                                       {"clientOrderId": client_id})
    return Order.objects.create(
        account=market.mm_account, market=market, client_order_id=client_id, exchange_order_id=str(placed["id"]),
        side="sell", price=D(price), amount=D("0.01"), state=Order.OPEN,
    )


def tick(market) -> str:
    return quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None)


def test_an_order_the_venue_answered_cancelled_stays_cancelled_while_the_stream_lags(market, stubs, redis_client):
    order = recorded_order(market, "q-lagging-1", "66000")
    venue_for(market.mm_account).cancel_order(order.exchange_order_id, SYMBOL)
    Order.objects.filter(pk=order.pk).update(state=Order.CANCELED)
    # The stream has not told of the cancel yet: it still lists the order as open.
    state.save_open_orders(market.mm_account_id, SYMBOL, [{
        "id": order.exchange_order_id, "clientOrderId": order.client_order_id, "symbol": SYMBOL, "side": "sell",
        "price": D("66000"), "amount": D("0.01"), "filled": D(0), "remaining": D("0.01"), "status": "open",
        "timestamp": state.now_ms(),
    }])
    state.mark_orders_streamed(market.mm_account_id)
    redis_client.set(f"ballast:throttle:open-orders-check:{market.pk}", 1, px=60_000)  # no REST check due
    asked = stubs.requests("/api/v3/openOrders")

    assert tick(market) == "running"

    assert stubs.requests("/api/v3/openOrders") == asked  # the streamed list was what it read
    order.refresh_from_db()
    assert order.state == Order.CANCELED  # not brought back to life by the lagging stream
    # Nor taken for a resting quote: the one cancel sent for it is the one above.
    cancels = [params for method, path, params in list(stubs.rest.requests)
               if (method, path) == ("DELETE", "/api/v3/order") and str(params.get("orderId")) == order.exchange_order_id]
    assert len(cancels) == 1


def test_an_order_the_stream_has_not_told_of_yet_rests_for_the_tick(market, stubs, redis_client):
    order = recorded_order(market, "q-untold-1", "66000")  # sent a moment ago
    # The stream lists nothing yet: the news of the order is still on its way.
    state.save_open_orders(market.mm_account_id, SYMBOL, [])
    state.mark_orders_streamed(market.mm_account_id)
    redis_client.set(f"ballast:throttle:open-orders-check:{market.pk}", 1, px=60_000)  # no REST check due

    assert tick(market) == "running"

    # The venue, asked, says it rests: the tick manages it as a resting quote (off the market's
    # levels, it is replaced) instead of leaving it on the venue unmanaged until the REST check.
    order.refresh_from_db()
    assert order.state == Order.CANCELED
    open_ids = {str(o["id"]) for o in venue_for(market.mm_account).fetch_open_orders(SYMBOL)}
    assert order.exchange_order_id not in open_ids


def test_with_fills_streamed_a_cancel_that_filled_reads_no_trades(market, stubs):
    order = recorded_order(market, "q-partly-1", "65001")
    stubs.rest.take("buy", "0.012")  # the bot's ask at 65,000 whole, and 0.002 of this one
    state.mark_fills_streamed(market.mm_account_id, "watch_my_trades")  # the stream has them
    trades_read = stubs.requests("/api/v3/myTrades")

    assert tick(market) == "running"  # its first tick replaces every resting order

    order.refresh_from_db()
    assert (order.state, order.filled) == (Order.CANCELED, D("0.002"))
    assert stubs.requests("/api/v3/myTrades") == trades_read


@pytest.mark.parametrize(("age_seconds", "live"), [(0, False), (60, False), (60, True)])
def test_a_health_sample_reads_the_streamed_own_book_while_fresh_or_streamed(market, stubs, age_seconds, live):
    # A streamed book unlike the stub's (mid 64,000), of the given age; with its stream live, a
    # book that has not changed for a minute is still the book (the exchange sends no news).
    venue_id = market.mm_account.venue_id
    state.save_book(venue_id, SYMBOL, [(D("63990"), D("1"))], [(D("64010"), D("1"))],
                    state.now_ms() - age_seconds * 1000, state.DEEP_BOOK_LEVELS)
    if live:
        state.mark_book_streamed(venue_id, SYMBOL)
    asked = stubs.requests("/api/v3/depth")

    sample = health.sample_market(market)

    if age_seconds and not live:
        assert (sample.mid != D("64000"), stubs.requests("/api/v3/depth")) == (True, asked + 1)
    else:
        assert (sample.mid, stubs.requests("/api/v3/depth")) == (D("64000"), asked)


def test_the_stream_keeps_the_own_venue_book_as_deep_as_the_health_samples_read_it(market):
    [plan] = [p for p in work.planned() if p.account_id == market.mm_account_id]

    assert (plan.book_symbols, plan.deep_books) == ({SYMBOL}, {SYMBOL})
    assert health.BOOK_LEVELS == state.DEEP_BOOK_LEVELS


@pytest.mark.parametrize("recording", [True, False])
def test_the_snapshot_after_a_tick_takes_the_streamed_balance_before_its_news(market, stubs, recording):
    venue = venue_for(market.mm_account)
    state.save_balance(venue.balance_key, venue.fetch_balance())
    state.mark_balance_streamed(venue.balance_key)
    state.balance_moving(venue.balance_key)  # a tick sent an order the stream has not told of yet
    asked = stubs.requests("/api/v3/account")

    refresh_balances(market.mm_account, ["BTC", "USDT"], recording=recording)

    # Only recording takes it; a reader that decides asks the venue.
    assert stubs.requests("/api/v3/account") == asked + (0 if recording else 1)
