"""On a real exchange (the binance stub through ccxt) a tick sends its orders and cancels as many
at once as the venue takes (bots/venues/at_once.py), and exactly-once holds as it did one by one:
every order sent is recorded with the venue's answer, and one whose answer was lost stays
"sending" until the next tick finds it on the venue by its client order id; none is left unknown.
"""

from __future__ import annotations

import threading

import ccxt
import pytest

from bots.market_making import quoter
from bots.models import Market, Order
from bots.venues import at_once, venue_for
from tests.support.quoting import PassThrough, market_row, now_ms, tick, wrap_venue
from tests.support.streams import Stubs, make_on_stub

pytestmark = pytest.mark.django_db


@pytest.fixture
def stubs():
    stubs = Stubs()
    yield stubs
    stubs.stop()


@pytest.fixture
def market(demo_market, stubs, settings):
    settings.VENUE_REQUESTS_AT_ONCE = 4
    quoter.forget_market_rules()
    return make_on_stub(demo_market, stubs)


@pytest.fixture
def waves(monkeypatch):
    """How many calls each use of at_once.each was given."""
    sizes: list[int] = []
    each = at_once.each

    def counting(width, calls):
        sizes.append(len(calls))
        return each(width, calls)

    monkeypatch.setattr(at_once, "each", counting)
    return sizes


def open_on_stub(market) -> dict[str, dict]:
    return {str(o["id"]): o for o in venue_for(market.mm_account).fetch_open_orders(market.symbol)}


def test_a_tick_sends_its_orders_four_at_a_time_and_records_every_answer(market, waves):
    assert tick(market) == Market.RUNNING

    placed = Order.objects.filter(market=market, state=Order.OPEN)
    assert placed.count() >= 8
    assert max(waves) == 4  # the orders went out four at a time
    # Every order the stub holds is recorded with its id, and every record is on the stub.
    assert set(open_on_stub(market)) == set(placed.values_list("exchange_order_id", flat=True))
    assert not Order.objects.filter(market=market, state=Order.SENDING).exists()


def test_an_answer_lost_among_orders_sent_at_once_stays_sending_until_the_venue_is_asked(
    market, monkeypatch
):
    # The third order sent reaches the stub, but its answer is lost (a timeout after accepting).
    sent, lock = [], threading.Lock()

    class LosingAnAnswer(PassThrough):
        def create_order(self, *args, **kwargs):
            order = self.venue.create_order(*args, **kwargs)
            with lock:
                sent.append(order["id"])
                lost = len(sent) == 3
            if lost:
                raise ccxt.RequestTimeout("binance-stub: the answer was lost (injected)")
            return order

    wrap_venue(monkeypatch, market.mm_account_id, LosingAnAnswer)

    assert tick(market) == Market.DEGRADED
    assert market_row(market).state_reason.startswith("RequestTimeout: ")

    [unknown] = Order.objects.filter(market=market, state=Order.SENDING)
    # The rest of its wave was answered and is recorded as the stub holds it; the later waves
    # were not sent.
    answered = Order.objects.filter(market=market, state=Order.OPEN).exclude(exchange_order_id="")
    assert answered.count() == 3
    assert set(open_on_stub(market)) == {*answered.values_list("exchange_order_id", flat=True), *sent} - {""}
    assert Order.objects.filter(market=market, state=Order.FAILED, error__startswith="not sent: ").exists()

    monkeypatch.undo()
    assert tick(market, now_ms() + 31_000) == Market.RUNNING  # the venue is asked once settled

    unknown.refresh_from_db()
    assert unknown.exchange_order_id in sent and unknown.state != Order.SENDING
    assert not Order.objects.filter(market=market, state=Order.SENDING).exists()
    assert set(open_on_stub(market)) == set(
        Order.objects.filter(market=market, state=Order.OPEN).values_list("exchange_order_id", flat=True)
    )
