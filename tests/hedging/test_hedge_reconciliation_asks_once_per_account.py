"""The hedge reconciliation asks a hedge account's venue for its trades of a symbol once, however
many markets hedge that symbol there (the binance stub through ccxt): per market, ten markets on
one hedge account cost ten `myTrades` reads (weight 20 each) a minute for the same answer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.hedging import reconcile
from bots.models import Market
from tests.support.streams import Stubs, hedge_on_stub

pytestmark = pytest.mark.django_db


@pytest.fixture
def stubs():
    stubs = Stubs()
    yield stubs
    stubs.stop()


def test_markets_sharing_a_hedge_account_and_symbol_are_reconciled_with_one_read(demo_market, stubs):
    first = hedge_on_stub(demo_market, stubs)
    for i in (2, 3):
        Market.objects.create(
            slug=f"btc-usdt-{i}", symbol="BTC/USDT", mm_account=first.mm_account,
            hedge_account=first.hedge_account, target_base=Decimal("1"),
        )
    asked = stubs.requests("/api/v3/myTrades")

    reconcile.reconcile_all()

    assert stubs.requests("/api/v3/myTrades") == asked + 1
