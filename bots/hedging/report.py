"""What the pages show about hedging: each fill's hedge figures, the day's, the pending position.

Per fill: P&L in quote currency and bps (MM fill price against the hedge's average price, fees
of both legs), slippage against the book's price for the size with the protection price's
allowance beside it, and the time from the fill to the hedge done. Per day (UTC): the same
summed over the hedges finished that day.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from bots.engine.hedging.pnl import HedgeFigures, protection_bps, summarize
from bots.hedging.hedge_book import pending_position
from bots.models import Hedge, HedgeMismatch, HedgeOrder, Market

TENTH = Decimal("0.1")
CENT = Decimal("0.01")


def _q(value: Decimal | None, step: Decimal) -> Decimal | None:
    return None if value is None else value.quantize(step)


def venues_of(hedge_ids: list[int]) -> dict[int, list[str]]:
    """The venues each hedge traded on, by hedge id."""
    found: dict[int, list[str]] = {}
    rows = HedgeOrder.objects.filter(hedge_id__in=hedge_ids, filled__gt=0).values_list(
        "hedge_id", "account__venue__label", "account__venue__sandbox"
    )
    for hedge_id, label, sandbox in rows.order_by("pk"):
        label = f"{label} (testnet)" if sandbox else label  # as str(venue) names it
        if label not in found.setdefault(hedge_id, []):
            found[hedge_id].append(label)
    return found


def tape_fields(hedge: Hedge, venues: list[str]) -> dict:
    """A fill's hedge on the tape."""
    allowed = (
        protection_bps(hedge.side, hedge.limit_price, hedge.expected_price)
        if hedge.limit_price and hedge.expected_price
        else None
    )
    return {
        "id": hedge.pk,
        "venue": ", ".join(venues) or str(hedge.account.venue),
        "side": hedge.side,
        "amount": hedge.amount,
        "filled": hedge.filled,
        "price": hedge.average_price,
        "state": hedge.state,
        "error": hedge.error,
        "pnl_quote": _q(hedge.pnl_quote, CENT),
        "pnl_bps": _q(hedge.pnl_bps, TENTH),
        "slippage_bps": _q(hedge.slippage_bps, TENTH),
        "allowed_bps": _q(allowed, TENTH),
        "hedge_ms": hedge.hedge_ms,
    }


def day_summary(market: Market, day: datetime | None = None) -> dict:
    """The hedges of `market` finished on the UTC day of `day` (today by default)."""
    day = day or timezone.now()
    start = datetime.combine(day.date(), time.min, tzinfo=day.tzinfo)
    rows = Hedge.objects.filter(fill__market=market, done_at__gte=start).exclude(state=Hedge.FAILED)
    # A write-off's P&L on what it did hedge counts; its time is no time to a hedge done.
    figures = [
        HedgeFigures(pnl, price * filled, ms if state != Hedge.WRITTEN_OFF else None, state)
        for pnl, price, filled, ms, state in rows.values_list(
            "pnl_quote", "fill__price", "filled", "hedge_ms", "state"
        )
    ]
    summary = summarize(figures)
    return {
        "date": start.date(),
        "hedges": summary.hedges,
        "pnl_quote": _q(summary.pnl_quote, CENT),
        "pnl_bps": _q(summary.pnl_bps, TENTH),
        "median_ms": summary.median_ms,
        "p99_ms": summary.p99_ms,
        "by_state": summary.by_state,
    }


def hedging_snapshot(market: Market) -> dict:
    """The market page's hedging figures: today's, the failed count, the pending position."""
    open_states = (
        Hedge.objects.filter(fill__market=market, state__in=[Hedge.FAILED, Hedge.PENDING, Hedge.SENDING])
        .values("state")
        .annotate(n=Count("pk"))
    )
    counts = {row["state"]: row["n"] for row in open_states}
    return {
        "hedging": {
            "today": day_summary(market),
            "failed": counts.get(Hedge.FAILED, 0),
            "in_flight": counts.get(Hedge.PENDING, 0) + counts.get(Hedge.SENDING, 0),
            "mismatches": HedgeMismatch.objects.filter(
                account__in=market.hedge_accounts(), resolved_at__isnull=True
            ).count(),
            "pending": pending_position(market)["sides"],
        }
    }
