"""A paper world for intervention tests: the demo market ticked once (its reference read), both
bot accounts' balances read, users' fills on record for the detectors and the participation cap,
and an approved intervention whose slices are due."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bots.interventions import workflow
from bots.models import Fill, Intervention, Market
from bots.treasury.balances import refresh_balances

D = Decimal


def read_balances(market: Market) -> None:
    for account in (market.mm_account, market.hedge_account):
        refresh_balances(account, [market.base, market.quote])


def user_fills(market: Market, user_side: str, amounts: list[str], ago_seconds: int = 30) -> None:
    """Users' trades on the own book as capture would record them (the MM bot on the other
    side), `ago_seconds` ago."""
    at = int(time.time() * 1000) - ago_seconds * 1000
    mm_side = "sell" if user_side == "buy" else "buy"
    for i, amount in enumerate(amounts):
        Fill.objects.create(
            venue=market.mm_account.venue, account=market.mm_account, market=market,
            trade_id=f"user-{user_side}-{at}-{i}", order_id="x", side=mm_side, price=D("65000"),
            amount=D(amount), cost=D(amount) * 65000, timestamp=at + i,
        )


def approved(market: Market, proposer, approver, seed: int = 1, **proposal) -> Intervention:
    """An intervention proposed by one operator and approved by another, its plan drawn from a
    seeded random source so the test knows its slices."""
    done = workflow.propose(market, proposer, **proposal)
    iv = done.intervention
    workflow.approve(iv.pk, approver, "go")
    iv.refresh_from_db()
    # Re-plan from a seed: what approval drew came from the system's randomness.
    Intervention.objects.filter(pk=iv.pk).update(state=Intervention.PROPOSED)
    iv.refresh_from_db()
    workflow.start(iv, random.Random(seed))
    iv.refresh_from_db()
    return iv


def advance(iv: Intervention, seconds: float) -> Intervention:
    """Move the intervention's clock on: as if it started `seconds` earlier and its next slice
    were due now."""
    Intervention.objects.filter(pk=iv.pk).update(
        started_at=iv.started_at - timedelta(seconds=seconds), next_at=timezone.now()
    )
    iv.refresh_from_db()
    return iv
