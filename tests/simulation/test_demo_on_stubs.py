"""`make demo VENUES=stub`: the demo seeded on ccxt venues pointed at the served stubs, which trade
as exchanges do (users on the own exchange, an outside book on the hedge venue), and the whole
way through ccxt: a user's trade on the own stub is captured and hedged on the other."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from bots.engine.simulation.flow import UserOrder
from bots.hedging import hedger
from bots.hedging.capture import capture_fills
from bots.models import Fill, HedgeOrder, Market, Venue
from bots.simulation.stub_exchanges import served
from bots.simulation.stub_exchanges.binance_ws import DEPTH
from bots.venues import venue_for

D = Decimal


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def stubs():
    stubs = served.ServedStubs({"BTC": "2", "USDT": "130000"}, D("65000"), ports=(0, 0, 0, 0))
    yield stubs
    stubs.stop()


@pytest.mark.django_db
def test_the_stub_demo_is_seeded_on_ccxt_venues_pointed_at_the_stubs():
    seed("--venues", "stub")

    market = Market.objects.select_related("mm_account__venue", "hedge_account__venue").get()
    own, outside = market.mm_account.venue, market.hedge_account.venue
    assert (own.kind, own.exchange_id) == (Venue.CCXT, "hollaex")
    assert (outside.kind, outside.exchange_id) == (Venue.CCXT, "binance")
    assert own.options["urls"]["api"]["rest"] == f"http://127.0.0.1:{served.OWN_PORT}"
    assert own.options["urls"]["api"]["ws"] == f"ws://127.0.0.1:{served.OWN_WS_PORT}/stream"
    assert outside.options["urls"]["api"]["public"].startswith(f"http://127.0.0.1:{served.OUTSIDE_PORT}/")
    assert market.mm_account.credentials()["apiKey"] == "stub-hollaex-key"


@pytest.mark.django_db
def test_paper_and_stub_demos_never_share_a_database():
    seed()
    with pytest.raises(CommandError, match="a database of its own"):
        seed("--venues", "stub")


def test_the_outside_book_is_laid_again_in_one_depth_event(stubs):
    before = len([m for kind, m in stubs.outside_ws.sent if kind == DEPTH])
    first = stubs.outside.update_id
    stubs.move_outside(1)
    assert stubs.outside.update_id == first + 1  # one change: a stream never sees the book empty
    assert stubs.outside.book.bids and stubs.outside.book.asks
    assert len([m for kind, m in stubs.outside_ws.sent if kind == DEPTH]) == before  # no client


@pytest.mark.django_db
def test_a_users_trade_on_the_own_stub_is_hedged_on_the_other_through_ccxt(stubs):
    seed("--venues", "stub")
    for venue, ws in (("own", stubs.own_ws), ("external", stubs.outside_ws)):
        row = Venue.objects.get(name=venue)
        row.options = {**row.options, **ws.ccxt_config()}
        row.save()
    market = Market.objects.get_for_work(Market.objects.get().pk)
    Market.objects.filter(pk=market.pk).update(last_fill_timestamp=0)
    venue_for(market.mm_account).create_order("BTC/USDT", "limit", "sell", D("0.01"), D("65100"))

    assert stubs.users_trade([UserOrder("buy", D("0.004"))]) == 1
    [fill] = capture_fills(Market.objects.get_for_work(market.pk), venue_for(market.mm_account),
                           lambda hedge_id: None)
    outcome = hedger.execute_hedge(fill.hedge.pk)

    assert fill.amount == D("0.004") and Fill.objects.count() == 1
    assert outcome.state == "filled"
    [order] = HedgeOrder.objects.all()
    assert (order.side, order.filled) == ("buy", D("0.004"))
    assert [(t.side, t.amount) for t in stubs.outside.trades if t.account == "bot"] == [("buy", D("0.004"))]
