"""A trade no id can key (no trade id, and no order id or time to derive one from) is refused
loudly: not recorded, logged as an error and raised as an alert on the market, while the other
trades of the same answer are captured as usual. Before, such a trade was recorded under the id
"None" and every later one dropped as already recorded."""

from __future__ import annotations

import logging
from decimal import Decimal
from unittest.mock import create_autospec

import pytest

from bots.hedging.capture import capture_fills
from bots.models import Alert, Fill
from bots.venues.ccxt_venue import CcxtVenue

pytestmark = pytest.mark.django_db
D = Decimal


def trade(id, order, timestamp):
    return {"id": id, "order": order, "timestamp": timestamp, "side": "sell", "price": D("65020"),
            "amount": D("0.1"), "cost": D("6502"), "fee": None, "symbol": "BTC/USDT"}


def test_a_trade_without_identity_is_refused_and_alerted(demo_market, caplog):
    venue = create_autospec(CcxtVenue, instance=True)
    venue.fetch_my_trades.return_value = [
        trade(None, None, 1_800_000_000_000),
        trade("t-2", "o-2", 1_800_000_000_001),
        trade("None", "o-3", 1_800_000_000_002),
    ]

    with caplog.at_level(logging.ERROR, logger="bots.hedging.capture"):
        fills = capture_fills(demo_market, venue, lambda hedge_id: None)

    assert [f.trade_id for f in fills] == ["t-2"] and Fill.objects.count() == 1
    [alert] = Alert.objects.filter(kind=Alert.VENUE_ERROR, market=demo_market)
    assert "2 trade(s) without an id" in alert.message and alert.action_url
    assert any("without an id" in r.getMessage() for r in caplog.records)
