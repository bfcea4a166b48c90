"""What the market page shows: balances, exposure, and the tape with each hedge and its edge."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.hedging import hedger
from bots.hedging.capture import capture_fills
from bots.simulation.paper_flow import user_trade
from bots.treasury.balances import refresh_balances
from bots.venues import venue_for
from dashboard.live.publisher import market_snapshot

pytestmark = pytest.mark.django_db


def test_the_snapshot_tells_the_chain_reaction_of_a_user_sell(running_market):
    user_trade(running_market, "sell", Decimal("0.04"))
    [fill] = capture_fills(running_market, venue_for(running_market.mm_account), lambda hedge_id: None)
    hedger.execute_hedge(fill.hedge.pk)
    for account in (running_market.mm_account, running_market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])

    snapshot = market_snapshot(running_market)

    [row] = snapshot["tape"]
    hedge = row["hedge"]
    assert (row["user_side"], row["mm_side"], row["amount"]) == ("sell", "buy", Decimal("0.04"))
    assert (hedge["venue"], hedge["side"], hedge["filled"], hedge["state"]) == (
        "External exchange", "sell", Decimal("0.04"), "filled",
    )
    # The MM bot bought below where the hedge sold: the edge the exchange kept, in bps.
    expected = (hedge["price"] - row["price"]) / row["price"] * 10000
    assert row["edge_bps"] == expected.quantize(Decimal("0.1"))
    assert row["edge_bps"] > 0

    totals = {(b["account"], b["asset"]): b["total"] for b in snapshot["balances"]}
    assert totals[("MM bot", "BTC")] == Decimal("2.04")
    assert totals[("Hedging bot", "BTC")] == Decimal("1.96")
    assert snapshot["exposure"] == Decimal("0")  # the hedge's fee was paid in USDT
