"""Treasury set-ups shared by several tests."""

from __future__ import annotations

from decimal import Decimal as D

from bots.models import PaperBalance
from bots.treasury.balances import refresh_balances


def drain(market, btc_to_hedge: D) -> None:
    """Move BTC from the MM account to the hedge account, as a run of hedged user buys does."""
    PaperBalance.objects.filter(account=market.mm_account, asset="BTC").update(
        free=D("2") - btc_to_hedge
    )
    PaperBalance.objects.filter(account=market.hedge_account, asset="BTC").update(
        free=D("2") + btc_to_hedge
    )
    for account in (market.mm_account, market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])
