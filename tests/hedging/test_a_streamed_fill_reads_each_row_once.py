"""The hedge path of a streamed fill (capture, claim, context, order, record) asks the database
for no row it already read: the hedge venue's testnet switch comes with the market's context
instead of a query of its own per hedge, and the account's keys are not decrypted again."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bots.hedging.tasks import hedge_now
from bots.models import Hedge
from bots.streams import work
from bots.venues import stream_state as state
from bots.venues import venue_for
from tests.support.streams import Stubs, hedge_on_stub, make_on_stub

pytestmark = pytest.mark.django_db(transaction=True)

TRANSACTION = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
# Measured when this was written: the capture 4 (market, known trades, fill, intent; the intent
# born claimed for this run, so no claim of its own since 2026-12-07),
# the context 2, the order 2, its answer 3, the close 1, the market's newest fill 1; and since
# price-action interventions, the capture's one look at the MM account's intervention orders
# (bots.hedging.capture.intervention_orders: their trades are not hedged).
MOST_STATEMENTS = 14


@pytest.fixture
def stubs():
    stubs = Stubs()
    yield stubs
    stubs.stop()


def test_a_streamed_fill_is_hedged_reading_each_row_once(hedging_market, stubs, monkeypatch):
    market = hedge_on_stub(make_on_stub(hedging_market, stubs), stubs)
    hedge_venue = venue_for(market.hedge_account)
    # What the stream process keeps: the hedge book and balance, so no REST read is made.
    book = hedge_venue.fetch_order_book("BTC/USDT")
    state.save_book(market.hedge_account.venue_id, "BTC/USDT", book["bids"], book["asks"], state.now_ms())
    state.save_balance(hedge_venue.balance_key, hedge_venue.fetch_balance())
    state.mark_balance_streamed(hedge_venue.balance_key)
    stubs.rest.take("buy", "0.001")
    trades = venue_for(market.mm_account).fetch_my_trades("BTC/USDT")
    decryptions = []
    real = Fernet.decrypt
    monkeypatch.setattr(Fernet, "decrypt", lambda self, token, *a: decryptions.append(1) or real(self, token, *a))

    with CaptureQueriesContext(connection) as queries:
        assert work.capture_streamed(market.pk, trades, hedge_now) == 1

    assert Hedge.objects.get().state == Hedge.FILLED
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].upper().startswith(TRANSACTION)]
    assert not [s for s in statements if 'FROM "bots_venue" WHERE' in s]  # a deferred field loaded
    assert len(statements) <= MOST_STATEMENTS, "\n".join(statements)
    assert decryptions == []
