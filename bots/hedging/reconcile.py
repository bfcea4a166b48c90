"""Reconciling the hedge venues' trades with the recorded hedge orders, and the sweeper's pick.

The hedger records every order it sends; the venue's own list of trades is the other side of
the books. Each difference becomes a HedgeMismatch an operator sees on the hedges page until
the two agree again: a venue order Ballast never recorded (a lost answer it did not find
again, or someone trading on the hedge account by hand), or amounts that differ.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.db.models import Max
from django.utils import timezone

from bots.desk.audit import record
from bots.engine.rules import ZERO, dec
from bots.models import Account, Hedge, HedgeMismatch, HedgeOrder, Market
from bots.venues import venue_for

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)
# A trade younger than this may belong to an order whose answer is still being recorded.
SETTLE = timedelta(seconds=30)


def due_for_sweep(after: timedelta) -> list[int]:
    """Intents to run again: untouched for `after`, and not final.

    Pending ones whose task died or ran out of retries; "sending" ones whose run died holding
    them (pending again, the next run first asks the venue for what that run sent); and, per
    market, the newest waiting one, whose run nets and re-prices the whole pending position.
    """
    stale = timezone.now() - after
    rows = Hedge.objects.filter(state__in=[Hedge.PENDING, Hedge.SENDING], updated_at__lt=stale)
    ids = list(rows.values_list("pk", flat=True))
    Hedge.objects.filter(pk__in=ids, state=Hedge.SENDING, updated_at__lt=stale).update(
        state=Hedge.PENDING
    )
    waiting = (
        Hedge.objects.filter(state=Hedge.WAITING)
        .values("fill__market")
        .annotate(newest=Max("pk"), touched=Max("updated_at"))
        .filter(touched__lt=stale)
    )
    return ids + [row["newest"] for row in waiting]


def reconcile_account(account: Account, symbol: str, now=None) -> list[HedgeMismatch]:
    """Compare one hedge account's recent trades with its recorded orders; flag differences."""
    now = now or timezone.now()
    since = now - WINDOW
    trades = venue_for(account).fetch_my_trades(symbol, since=int(since.timestamp() * 1000))
    venue_orders: dict[str, dict] = {}
    settled_ms = int((now - SETTLE).timestamp() * 1000)
    for trade in trades:
        order = venue_orders.setdefault(
            str(trade["order"]),
            {"filled": ZERO, "cost": ZERO, "client": trade.get("clientOrderId") or "", "newest": 0},
        )
        order["filled"] += dec(trade["amount"])
        order["cost"] += dec(trade["cost"])
        order["newest"] = max(order["newest"], trade["timestamp"])

    recorded = {
        row.exchange_order_id: row
        for row in HedgeOrder.objects.filter(account=account, exchange_order_id__in=list(venue_orders))
    }
    # Orders recorded as filled in the window whose trades the venue does not list: this
    # symbol's only, since the venue was asked for this symbol's trades (an account can hedge
    # several markets).
    for row in HedgeOrder.objects.filter(
        account=account, state=HedgeOrder.DONE, filled__gt=0, hedge__fill__market__symbol=symbol,
        accepted_at__gte=since + SETTLE, accepted_at__lt=now - SETTLE,
    ).exclude(exchange_order_id__in=list(venue_orders)):
        recorded[row.exchange_order_id] = row
        venue_orders[row.exchange_order_id] = {"filled": ZERO, "cost": ZERO,
                                               "client": row.client_order_id, "newest": 0}
    in_flight = set(
        HedgeOrder.objects.filter(account=account, state=HedgeOrder.SENDING).values_list(
            "client_order_id", flat=True
        )
    )

    flagged = []
    for order_id, seen in venue_orders.items():
        row = recorded.get(order_id)
        if row is None:
            if seen["client"] in in_flight or seen["newest"] > settled_ms:
                continue  # being recorded right now
            detail = (f"the venue traded {seen['filled']} in order {order_id} "
                      f"({seen['client'] or 'no client id'}) that no hedge records")
        elif (row.filled, row.cost) != (seen["filled"], seen["cost"]):
            detail = (f"order {order_id}: the venue traded {seen['filled']} for {seen['cost']}, "
                      f"the records say {row.filled} for {row.cost}")
        else:
            continue
        flagged.append(_flag(account, order_id, seen, row, detail))

    # Only what was compared this time can be found to agree now; older flags stay until then.
    HedgeMismatch.objects.filter(
        account=account, resolved_at__isnull=True, exchange_order_id__in=list(venue_orders)
    ).exclude(pk__in=[m.pk for m in flagged]).update(resolved_at=now)
    return flagged


def _flag(account, order_id: str, seen: dict, row: HedgeOrder | None, detail: str) -> HedgeMismatch:
    mismatch, created = HedgeMismatch.objects.update_or_create(
        account=account,
        exchange_order_id=order_id,
        defaults={
            "client_order_id": seen["client"],
            "venue_filled": seen["filled"],
            "venue_cost": seen["cost"],
            "recorded_filled": row.filled if row else Decimal(0),
            "recorded_cost": row.cost if row else Decimal(0),
            "detail": detail[:500],
            "resolved_at": None,
        },
    )
    if created:
        log.warning("hedge reconciliation: %s: %s", account, detail)
        market = Market.objects.filter(hedge_account=account).first()
        record("hedge_mismatch", actor="reconciler", market=market, subject=f"{account}", reason=detail)
    return mismatch


def reconcile_all() -> int:
    """Every hedge account the enabled markets use, once per symbol: the venue is asked for an
    account's trades of a symbol once, however many markets hedge it there. The number of open
    mismatches found."""
    found = 0
    seen: set[tuple[int, str]] = set()
    for market in Market.objects.filter(enabled=True).select_related("hedge_account__venue").order_by("pk"):
        for account in market.hedge_accounts():
            if (account.pk, market.symbol) in seen:
                continue
            seen.add((account.pk, market.symbol))
            found += len(reconcile_account(account, market.symbol))
    return found
