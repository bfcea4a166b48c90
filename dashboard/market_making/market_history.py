"""A market's history for its page: the records read from the database and handed to the pure
rebuild (bots.engine.desk.history), and the series it returns made ready for the page.

The page draws the last HISTORY_HOURS in BUCKET_SECONDS buckets on its first load
(`market_history`); each pushed snapshot carries `history_tail`: the levels now and the P&L of the
bucket that just ended and of the one under way, which the page adds to what it drew.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Q

from bots.engine.desk.history import HEDGE, INTERVENTION, MM, Change, Trade, Transfer, bucket_ends
from bots.engine.desk.history import market_history as rebuild
from bots.engine.hedging.pnl import fee_in_quote
from bots.engine.rules import BUY, ZERO
from bots.models import (
    BalanceSnapshot,
    Fill,
    HealthSample,
    Hedge,
    HedgeCover,
    HedgeOrder,
    InterventionOrder,
    Market,
    TransferProposal,
)

HISTORY_HOURS = 6
BUCKET_SECONDS = 60
BUCKET_MS = BUCKET_SECONDS * 1000
POINTS = HISTORY_HOURS * 3600 // BUCKET_SECONDS
MANY_HEDGES = 10_000  # ids passed as query parameters (SQLite takes 32,766)
HEDGE_LOOKBACK_MS = 24 * 3600 * 1000
BASE_PLACES = Decimal("1e-8")
QUOTE_PLACES = Decimal("1e-6")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def now_ms() -> int:
    return int(time.time() * 1000)


def _key(account_id: int) -> str:
    return str(account_id)


def _fee(
    amount: Decimal, currency: str, price: Decimal, base: str, quote: str
) -> tuple[Decimal, Decimal]:
    """(paid in quote, paid in base); a third asset is valued nowhere, as on the tape."""
    if not amount:
        return ZERO, ZERO
    if currency == base:
        return ZERO, amount
    return fee_in_quote(amount, currency, price, base, quote), ZERO


def _hedges_since(market: Market, since: int) -> tuple[list, list, Q]:
    """The market's hedges not closed yet (a failed one included) and those done after `since`,
    and a filter that finds their orders and covers: a hedge traded or covered after `since` is
    one of them.

    Each query reads one index of the hedges alone (joined to the market, the database may scan
    every fill instead), so a snapshot's few minutes stay cheap however long the market's past;
    a long window with many hedges reads the market's by join instead.
    """
    open_rows = list(
        Hedge.objects.filter(state__in=Hedge.OPEN).values_list(
            "pk", "fill_id", "side", "amount", "filled"
        )
    )
    done = list(
        Hedge.objects.filter(done_at__gt=_moment(since)).values_list(
            "pk", "fill_id", "state", "done_at", "side", "amount", "filled"
        )
    )
    fill_ids = {r[1] for r in open_rows} | {r[1] for r in done}
    ours = Fill.objects.filter(market=market)
    if len(fill_ids) <= MANY_HEDGES:
        ours = ours.filter(pk__in=fill_ids)
    else:
        ours = ours.filter(Q(hedge__state__in=Hedge.OPEN) | Q(hedge__done_at__gt=_moment(since)))
    ours = set(ours.values_list("pk", flat=True))
    open_rows = [r for r in open_rows if r[1] in ours]
    done = [r for r in done if r[1] in ours]
    ids = {r[0] for r in open_rows} | {r[0] for r in done}
    by_hedge = Q(hedge__in=ids) if len(ids) <= MANY_HEDGES else Q(hedge__fill__market=market)
    return open_rows, done, by_hedge


def _rebuild(market: Market, start_ms: int, ends: list[int], now: int):
    """The pure rebuild's inputs read from the records, and its result, with the accounts."""
    base, quote = market.base, market.quote
    accounts = [market.mm_account, *market.hedge_accounts()]
    followed = {a.pk for a in accounts}
    anchors = {}
    for account in accounts:
        row = (
            BalanceSnapshot.objects.filter(account=account, asset=base)
            .order_by("-taken_at", "-id")
            .values_list("total", "taken_at")
            .first()
        )
        if row is not None:
            anchors[_key(account.pk)] = (row[0], _ms(row[1]))
    # Every record after the window's start and after the oldest balance read moves a level.
    since = min([start_ms, *(at for _, at in anchors.values())])

    fills = list(
        Fill.objects.filter(market=market, timestamp__gt=since, timestamp__lte=now).values_list(
            "timestamp", "side", "amount", "price", "fee", "fee_currency", "account_id"
        )
    )
    trades = []
    for at, side, amount, price, fee, currency, account_id in fills:
        fee_q, fee_b = _fee(fee, currency, price, base, quote)
        trades.append(Trade(at, MM, side, amount, price, fee_q, fee_b, None, _key(account_id)))
    # Hedge records are looked up no further back than a day before the window: each hedge
    # refreshes its account's balance (a newer reading), so an older one means none came since.
    since = max(since, start_ms - HEDGE_LOOKBACK_MS)
    open_rows, done, by_hedge = _hedges_since(market, since)
    orders = HedgeOrder.objects.filter(by_hedge, filled__gt=0).filter(
        Q(accepted_at__gt=_moment(since)) | Q(accepted_at__isnull=True, sent_at__gt=_moment(since))
    )
    unhedged_changes = [
        Change(at, amount if side == BUY else -amount) for at, side, amount, *_ in fills
    ]
    for o in orders.values(
        "accepted_at",
        "sent_at",
        "side",
        "filled",
        "cost",
        "fee",
        "fee_currency",
        "account_id",
        "hedge__fill__timestamp",
    ):
        at = _ms(o["accepted_at"] or o["sent_at"])
        if at > now:
            continue
        # An order's fill covers its hedge (and those it carries) by as much: the unhedged base
        # moves by it, in the hedge's direction.
        unhedged_changes.append(Change(at, o["filled"] if o["side"] == BUY else -o["filled"]))
        price = o["cost"] / o["filled"]
        fee_q, fee_b = _fee(o["fee"], o["fee_currency"], price, base, quote)
        account = _key(o["account_id"]) if o["account_id"] in followed else None
        trades.append(
            Trade(
                at,
                HEDGE,
                o["side"],
                o["filled"],
                price,
                fee_q,
                fee_b,
                o["hedge__fill__timestamp"],
                account,
            )
        )
    covers = list(
        HedgeCover.objects.filter(
            by_hedge,
            ~Q(kind=HedgeCover.ORDER),  # counted with their orders above
            created_at__gt=_moment(since),
            created_at__lte=_moment(now),
        ).values_list(
            "created_at",
            "kind",
            "amount",
            "price",
            "fee_quote",
            "hedge__side",
            "hedge__fill__timestamp",
        )
    )
    for created, kind, amount, price, fee_quote, side, fill_ms in covers:
        if kind == HedgeCover.MANUAL:  # a hedge done elsewhere: a trade, on no followed account
            trades.append(
                Trade(_ms(created), HEDGE, side, amount, price, fee_quote, ZERO, fill_ms, None)
            )

    # Price-action interventions' slices move their account's base, and are P&L of their own.
    slices = InterventionOrder.objects.filter(
        intervention__market=market, filled__gt=0, sent_at__gt=_moment(since),
        sent_at__lte=_moment(now),
    ).values_list("sent_at", "side", "filled", "cost", "fee", "fee_currency", "account_id")
    for sent_at, side, filled, cost, fee, currency, account_id in slices:
        price = cost / filled
        fee_q, fee_b = _fee(fee, currency, price, base, quote)
        account = _key(account_id) if account_id in followed else None
        trades.append(
            Trade(_ms(sent_at), INTERVENTION, side, filled, price, fee_q, fee_b, None, account)
        )

    unhedged_changes += [
        Change(_ms(created), amount if side == BUY else -amount)
        for created, _, amount, _, _, side, _ in covers
    ]
    for _, _, state, done_at, side, amount, filled in done:
        if state == Hedge.WRITTEN_OFF and _ms(done_at) <= now:
            left = amount - filled
            unhedged_changes.append(Change(_ms(done_at), left if side == BUY else -left))
    # Now: what the fills whose hedge is not closed still leave (as bots.treasury.inventory.unhedged,
    # signed as the MM bot traded: buys add).
    unhedged_now = ZERO
    for _, _, side, amount, filled in open_rows:
        left = amount - filled
        if left > 0:
            unhedged_now += -left if side == BUY else left

    transfers = []
    moves = (
        TransferProposal.objects.filter(asset=base, sent_at__isnull=False)
        .filter(Q(source__in=followed) | Q(destination__in=followed))
        .filter(
            Q(state__in=TransferProposal.IN_FLIGHT)
            | Q(state=TransferProposal.COMPLETED, completed_at__gt=_moment(since))
            | Q(state=TransferProposal.FAILED, updated_at__gt=_moment(since))
        )
    )
    for t in moves:
        transfers.append(
            Transfer(
                sent_ms=_ms(t.sent_at),
                amount=t.sent_amount if t.sent_amount is not None else t.amount,
                fee=t.sent_fee if t.sent_fee is not None else t.fee,
                source=_key(t.source_id) if t.source_id in followed else None,
                destination=_key(t.destination_id) if t.destination_id in followed else None,
                arrived_ms=_ms(t.completed_at)
                if t.state == TransferProposal.COMPLETED and t.completed_at
                else None,
                failed_ms=_ms(t.updated_at) if t.state == TransferProposal.FAILED else None,
            )
        )

    history = rebuild(
        now_ms=now,
        start_ms=start_ms,
        ends=ends,
        target=market.target_base,
        anchors=anchors,
        trades=trades,
        transfers=transfers,
        unhedged_now=unhedged_now,
        unhedged_changes=unhedged_changes,
        references=_references(
            market, min([start_ms, *(t.reference_ms or t.at_ms for t in trades)]), now
        ),
    )
    return history, accounts


def _references(market: Market, since: int, now: int) -> list[tuple[int, Decimal]]:
    """The reference as recorded: every health round's (the hedge venue's mid, every few
    seconds, kept 8 days), the last tick's samples (every tick over the volatility window)."""
    samples = HealthSample.objects.filter(market=market, reference_mid__isnull=False)
    found = [
        (_ms(at), mid)
        for at, mid in samples.filter(
            taken_at__gt=_moment(since), taken_at__lte=_moment(now)
        ).values_list("taken_at", "reference_mid")
    ]
    before = (
        samples.filter(taken_at__lte=_moment(since))
        .order_by("-taken_at")
        .values_list("taken_at", "reference_mid")
        .first()
    )
    if before is not None:
        found.append((_ms(before[0]), before[1]))
    for at, price in market.reference_samples or []:
        if int(at) <= now:
            found.append((int(at), Decimal(price)))
    if (
        market.reference_price is not None
        and market.reference_at is not None
        and _ms(market.reference_at) <= now
    ):
        found.append((_ms(market.reference_at), market.reference_price))
    return found


def _plain(value: Decimal, places: Decimal) -> str:
    """Fixed-point, trailing zeros dropped: the page embeds some 4,000 of these."""
    text = format(value.quantize(places), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _base(value: Decimal) -> str:
    return _plain(value, BASE_PLACES)


def _quote(value: Decimal) -> str:
    return _plain(value, QUOTE_PLACES)


def _series(history, accounts) -> dict:
    """The levels at each end, labelled for the page."""
    labels = {_key(a.pk): f"{a.name} @ {a.venue.label}" for a in accounts}
    return {
        "holdings": [
            {"key": key, "label": labels[key], "values": [_base(v) for v in values]}
            for key, values in history.holdings.items()
        ],
        "in_flight": [_base(v) for v in history.in_flight],
        "held": [_base(v) for v in history.held],
        "exposure": [_base(v) for v in history.exposure],
        "unhedged": [_base(v) for v in history.unhedged],
    }


PNL_PARTS = ("spread", "hedge", "intervention", "fees", "mtm", "total")


def market_history(market: Market, now: int | None = None) -> dict:
    """The last HISTORY_HOURS of the market, one point per BUCKET_SECONDS (the last point now),
    as the page's first load draws it. P&L is cumulative from the window's start."""
    now = now_ms() if now is None else now
    start, ends = bucket_ends(now, BUCKET_MS, POINTS)
    history, accounts = _rebuild(market, start, ends, now)
    pnl = history.pnl
    return {
        "bucket_ms": BUCKET_MS,
        "bucket": (now - 1) // BUCKET_MS,
        # The points are at the end of each bucket from `start` on, the last one at `now`.
        "start": start,
        "now": now,
        **_series(history, accounts),
        "pnl": None
        if pnl is None
        else {name: [_quote(v) for v in getattr(pnl, name)] for name in PNL_PARTS},
    }


def history_tail(market: Market, now: int | None = None) -> dict:
    """What a pushed snapshot adds: the levels now, and the P&L of the bucket that ended last
    (`previous`) and of the one under way up to now (`current`). A page that drew bucket k and
    receives k + 1 adds `previous` to its running sums; one that missed a whole bucket reloads."""
    now = now_ms() if now is None else now
    start, ends = bucket_ends(now, BUCKET_MS, 2)
    history, accounts = _rebuild(market, start, ends, now)
    pnl = history.pnl
    levels = _series(history, accounts)
    tail = {
        "bucket": (now - 1) // BUCKET_MS,
        "at": now,
        "holdings": [{**h, "values": h["values"][-1:]} for h in levels["holdings"]],
        **{name: levels[name][-1:] for name in ("in_flight", "held", "exposure", "unhedged")},
        "previous": None,
        "current": None,
    }
    if pnl is not None:
        tail["previous"] = {name: _quote(getattr(pnl, name)[0]) for name in PNL_PARTS}
        tail["current"] = {
            name: _quote(getattr(pnl, name)[1] - getattr(pnl, name)[0]) for name in PNL_PARTS
        }
    return tail
