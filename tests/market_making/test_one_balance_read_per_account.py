"""Ticks of several markets hedging on one account read that account's balance once, not once
per market: the first tick's REST read is shared through Redis with the others
(bots/venues/stream_state.read_balance), against the binance stub through ccxt."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.management.commands.seed_demo import STUB_QUOTES
from bots.market_making import quoter
from bots.models import Market, QuoteSettings
from tests.support.streams import Stubs, hedge_on_stub

pytestmark = pytest.mark.django_db


@pytest.fixture
def stubs():
    stubs = Stubs()
    yield stubs
    stubs.stop()


def test_three_markets_ticking_read_their_hedge_accounts_balance_once(demo_market, stubs):
    first = hedge_on_stub(demo_market, stubs)
    markets = [first]
    for i in (2, 3):
        market = Market.objects.create(
            slug=f"btc-usdt-{i}", symbol="BTC/USDT", mm_account=first.mm_account,
            hedge_account=first.hedge_account, target_base=Decimal("1"),
        )
        QuoteSettings.objects.create(market=market, **{**STUB_QUOTES, "level_amount": Decimal("0.001")})
        markets.append(market)
    reads = stubs.requests("/api/v3/account")

    states = [quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None) for market in markets]

    assert states == ["running"] * 3
    assert stubs.requests("/api/v3/account") == reads + 1
