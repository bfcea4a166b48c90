"""The books of hedge intents: who is hedged by what, the pending position, and closing them.

Shared by the hedger (bots.hedging.hedger), the operator commands and the pages. Every change to an
intent's hedged amount is a HedgeCover row plus the intent's running sums, in one transaction;
an intent that reaches its amount is closed with its P&L, slippage and time to hedge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from bots.engine.hedging import netting
from bots.engine.hedging.pnl import fee_in_quote, hedge_pnl, slippage_bps
from bots.engine.rules import ZERO
from bots.models import Hedge, HedgeCover, Market
from bots.platform import sql
from bots.platform.locks import client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Share:
    """Part of an amount hedged for one member, with its exact part of the cost and fees."""

    hedge: Hedge
    amount: Decimal
    cost: Decimal
    fee_quote: Decimal


def split_cost(members: Sequence[Hedge], amount: Decimal, cost: Decimal, fee_quote: Decimal) -> list[Share]:
    """Share a hedged amount among members oldest first; the last share takes the rounding."""
    by_id = {m.pk: m for m in members}
    parts = netting.allocate(amount, [(m.pk, m.remaining) for m in members])
    shares, cost_left, fee_left = [], cost, fee_quote
    for index, (member_id, part) in enumerate(parts):
        last = index == len(parts) - 1
        part_cost = cost_left if last else cost * part / amount
        part_fee = fee_left if last else fee_quote * part / amount
        cost_left -= part_cost
        fee_left -= part_fee
        shares.append(Share(by_id[member_id], part, part_cost, part_fee))
    return shares


def apply_shares(shares: Sequence[Share], kind: str, **cover) -> list[Hedge]:
    """Record covers and add them to each member's sums; returns the members now complete.

    Call inside a transaction that holds the members' rows.
    """
    complete = []
    for s in shares:
        sql.insert(HedgeCover(
            hedge=s.hedge, kind=kind, amount=s.amount, price=s.cost / s.amount,
            fee_quote=s.fee_quote, **cover,
        ))
        member = s.hedge
        member.filled += s.amount
        member.cost += s.cost
        member.fee_quote += s.fee_quote
        member.average_price = member.cost / member.filled
        member.updated_at = timezone.now()
        sql.update(Hedge, {"id": member.pk}, filled=member.filled, cost=member.cost,
                   fee_quote=member.fee_quote, average_price=member.average_price,
                   updated_at=member.updated_at)
        if member.remaining <= 0:
            complete.append(member)
    return complete


def close(member: Hedge, state: str, error: str = "", only_if: dict | None = None) -> bool:
    """Finish an intent: state, time, and the figures the tape and the day's summary show.

    `only_if` adds conditions (a run's lease) to the write; False when they did not hold.
    """
    fill = member.fill
    base, quote = fill.market.symbol.split("/")
    done = timezone.now()
    result = hedge_pnl(
        fill.side,
        fill.price,
        fill.amount,
        fee_in_quote(fill.fee, fill.fee_currency, fill.price, base, quote),
        member.filled,
        member.cost,
        member.fee_quote,
    )
    member.state, member.error, member.wait_reason = state, error[:500], ""
    member.done_at = done
    member.average_price = result.average_price
    member.pnl_quote = result.pnl_quote if member.filled else None
    member.pnl_bps = result.pnl_bps
    member.slippage_bps = (
        slippage_bps(member.side, result.average_price, member.expected_price)
        if result.average_price is not None and member.expected_price
        else None
    )
    member.hedge_ms = int(done.timestamp() * 1000) - fill.timestamp
    member.updated_at = done
    fields = ("state", "error", "wait_reason", "done_at", "average_price", "pnl_quote", "pnl_bps",
              "slippage_bps", "hedge_ms", "expected_price", "limit_price", "step", "updated_at")
    return bool(sql.update(Hedge, {"id": member.pk, **(only_if or {})},
                           **{name: getattr(member, name) for name in fields}))


def close_complete(members: Sequence[Hedge], state: str = Hedge.FILLED) -> None:
    """Close the members a cover completed: FILLED by orders or netting, MANUAL by hand."""
    for member in members:
        close(member, state)


def group_of(hedge: Hedge) -> list[Hedge]:
    """The intents a carrier hedges: those it carries, oldest first, then itself."""
    carried = list(
        Hedge.objects.filter(carrier=hedge, state=Hedge.CARRIED)
        .select_related("fill__market")
        .order_by("pk")
    )
    return [*carried, hedge]


# --- the pending hedge position ---------------------------------------------------------------


def netting_lock(market_id: int):
    """One netting of a market at a time, across processes; the expiry frees a dead holder's."""
    return client().lock(f"ballast:netting:{market_id}", timeout=10, blocking_timeout=5)


def net_pending(market: Market) -> tuple[list[Hedge], list[Hedge]]:
    """Net the market's waiting intents against each other; return (closed, still waiting).

    Call inside a transaction; it locks the waiting rows. Those still waiting are all on one
    side, oldest first.
    """
    rows = list(
        Hedge.objects.select_for_update(of=("self",))
        .filter(fill__market=market, state=Hedge.WAITING)
        .select_related("fill__market")
        .order_by("pk")
    )
    by_id = {h.pk: h for h in rows}
    result = netting.net(
        [netting.Waiting(h.pk, h.side, h.remaining, h.fill.price) for h in rows]
    )
    closed = []
    for offset in result.offsets:
        pair = (by_id[offset.buy], by_id[offset.sell])
        for member, other in (pair, pair[::-1]):
            if member.expected_price is None:
                member.expected_price = member.limit_price = offset.price
                member.save(update_fields=["expected_price", "limit_price"])
            share = Share(member, offset.amount, offset.amount * offset.price, ZERO)
            closed += apply_shares([share], HedgeCover.NETTED, counterpart=other)
    close_complete(closed)
    still = [by_id[w.id] for w in result.left]
    return closed, still


def form_group(waiting: Sequence[Hedge]) -> Hedge:
    """Let the newest waiting intent carry the others' remainders; it is pending again."""
    *older, carrier = waiting
    Hedge.objects.filter(pk__in=[h.pk for h in older]).update(
        state=Hedge.CARRIED, carrier=carrier, wait_reason="", updated_at=timezone.now()
    )
    carrier.state, carrier.step, carrier.wait_reason, carrier.error = Hedge.PENDING, 0, "", ""
    carrier.save(update_fields=["state", "step", "wait_reason", "error", "updated_at"])
    return carrier


def pending_position(market: Market) -> dict:
    """What the market's fills still need hedged, for the page: waiting, per side."""
    rows = Hedge.objects.filter(fill__market=market, state=Hedge.WAITING).order_by("pk")
    sides: dict[str, dict] = {}
    for hedge in rows:
        side = sides.setdefault(hedge.side, {"side": hedge.side, "amount": ZERO, "fills": 0,
                                             "short_of_balance": False, "note": ""})
        side["amount"] += hedge.remaining
        side["fills"] += 1
        if hedge.wait_reason == Hedge.SHORT_OF_BALANCE:
            side["short_of_balance"] = True
        side["note"] = hedge.error
    return {"sides": list(sides.values())}


def balance_needs(market: Market) -> list[dict]:
    """What the market's hedges waiting for balance need, per asset, for the rebalance panel:
    a buy needs quote currency (valued at its fill's price, the best estimate at hand), a sell
    needs the base asset. Empty when no hedge waits for balance."""
    base, quote = market.symbol.split("/")
    needs: dict[str, dict] = {}
    rows = Hedge.objects.filter(
        fill__market=market, state=Hedge.WAITING, wait_reason=Hedge.SHORT_OF_BALANCE
    ).select_related("fill")
    for hedge in rows:
        asset, amount = (quote, hedge.remaining * hedge.fill.price) if hedge.side == "buy" else (base, hedge.remaining)
        need = needs.setdefault(asset, {"asset": asset, "amount": ZERO, "hedges": 0,
                                        "accounts": [a.pk for a in market.hedge_accounts()]})
        need["amount"] += amount
        need["hedges"] += 1
    return list(needs.values())
