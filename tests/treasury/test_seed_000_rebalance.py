"""Seed 000 end to end on paper venues: a run of user buys, each filled by the MM bot and hedged,
drains the MM account's BTC and the hedge account's USDT; the planner proposes BTC from the
hedge account to the MM account and USDT the other way; once approved, withdrawn and arrived,
both accounts are back inside their bands and the net exposure is unchanged but for fees."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from bots.hedging import hedger
from bots.hedging.capture import capture_fills
from bots.market_making import quoter
from bots.models import PaperTransfer, QuoteSettings, TransferProposal
from bots.simulation import paper_flow
from bots.simulation.paper_flow import user_trade
from bots.treasury import rebalancing, withdrawals
from bots.treasury.balances import refresh_balances
from bots.treasury.inventory import read_inventory
from bots.treasury.transfer_watch import watch_transfers
from bots.venues import venue_for
from bots.venues.paper import PaperVenue

pytestmark = pytest.mark.django_db
P = TransferProposal


def users_buy(market, total: D, each: D) -> None:
    """Users buy `total` BTC from the MM bot; every fill is captured and hedged at once."""
    bought = D(0)
    while bought < total:
        user_trade(market, "buy", each)
        for fill in capture_fills(
            market, venue_for(market.mm_account), on_hedge=lambda hedge_id: None
        ):
            hedger.execute_hedge(fill.hedge.pk)
        bought += each
    for account in (market.mm_account, market.hedge_account):
        refresh_balances(account, ["BTC", "USDT"])


def statuses(inventory, market) -> dict[tuple[str, str], str]:
    return {
        (role, asset): inventory.of(account.pk, asset).status
        for role, account in (("mm", market.mm_account), ("hedge", market.hedge_account))
        for asset in ("BTC", "USDT")
    }


@pytest.fixture
def drained(demo_market):
    # Quotes deep enough (5 levels of 0.3 BTC a side) that 1.4 BTC of user buys fill without
    # waiting for the bot to quote again.
    QuoteSettings.objects.filter(market=demo_market).update(
        level_amount=D("0.3"), amount_growth=D("0")
    )
    paper_flow.move_outside_markets(second=1)
    quoter.run_tick(demo_market.pk, on_hedge=lambda hedge_id: None)
    users_buy(demo_market, D("1.4"), D("0.2"))
    return demo_market


def exposure(market) -> D:
    return next(e for e in read_inventory().exposures if e.market.pk == market.pk).net


def test_seed_000_user_buys_are_rebalanced_back_inside_the_bands(drained, operator):
    market = drained
    before = read_inventory()
    assert statuses(before, market) == {
        ("mm", "BTC"): "below",
        ("mm", "USDT"): "above",
        ("hedge", "BTC"): "above",
        ("hedge", "USDT"): "below",
    }
    exposure_before = exposure(market)

    proposals = sorted(rebalancing.plan_transfers(), key=lambda p: p.asset)

    assert [(p.asset, p.source, p.destination) for p in proposals] == [
        ("BTC", market.hedge_account, market.mm_account),
        ("USDT", market.mm_account, market.hedge_account),
    ]
    btc, usdt = proposals
    assert D("1.3") < btc.amount < D("1.5")
    assert D("80000") < usdt.amount < D("100000")
    for p in proposals:
        rebalancing.approve(p.pk, operator)
    # The operator withdraws BTC through the venue (its address is whitelisted) and withdraws the
    # USDT on the exchange by hand, then records it.
    withdrawals.execute(btc.pk, operator)
    address = PaperVenue(usdt.destination).fetch_deposit_address("USDT")["address"]
    sent = PaperVenue(usdt.source).withdraw(
        "USDT", usdt.amount, address, params={"network": "TRC20"}
    )
    rebalancing.record_sent(usdt.pk, operator, usdt.amount, sent["fee"]["cost"], sent["txid"])

    assert watch_transfers()["arrived"] == 0  # a paper transfer takes a minute
    PaperTransfer.objects.update(arrives_at=timezone.now() - timedelta(seconds=1))
    assert watch_transfers()["arrived"] == 2

    assert set(P.objects.values_list("state", flat=True)) == {P.COMPLETED}
    after = read_inventory()
    assert set(statuses(after, market).values()) == {"inside"}
    for account in (market.mm_account, market.hedge_account):
        assert abs(after.of(account.pk, "BTC").total - 2) < D("0.01")
        assert abs(after.of(account.pk, "USDT").total - 130000) < D("1500")
    # Moving BTC between the accounts changes nothing but the withdrawal fee.
    assert exposure(market) == exposure_before - btc.fee
    assert rebalancing.plan_transfers() == []
