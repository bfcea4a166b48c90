"""The desk's inventory: every bot account's holding of each asset, its band, what is in flight
towards it, its value at the mark and its runway; per market the net and unhedged exposure.

Balances are the latest BalanceSnapshot rows (refreshed after fills and on a schedule). The
recent flow of an account is how its snapshots moved over the policy's window, less the
transfers that left or arrived in it: trading only, so a refill does not look like users
selling. Runway counts down to zero holding: the account can then no longer quote or hedge
that side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from bots.engine.books import mid_price
from bots.engine.figures import duration, in_asset, plain
from bots.engine.rules import ZERO, dec
from bots.engine.treasury.planner import Band, Holding
from bots.engine.treasury.runway import FlowEvent, hourly_flow, runway_hours
from bots.models import (
    Account,
    BalanceSnapshot,
    Fill,
    Hedge,
    InventoryBand,
    Market,
    RebalancePolicy,
    TransferProposal,
)
from bots.venues import ccxt_errors as ccxt
from bots.venues import stream_state, venue_for

MIN_FLOW_SPAN = timedelta(minutes=5)
MARK_SECONDS = 2.0  # a panel refresh reuses a mark this fresh instead of asking the venue again
_marks: dict[int, tuple[float, Decimal | None]] = {}


def policy_for(asset: str) -> RebalancePolicy:
    """The asset's policy, or the cautious default: every transfer needs two operators."""
    policy = RebalancePolicy.objects.filter(asset=asset).first()
    return policy or RebalancePolicy(asset=asset, two_approvers_above=ZERO)


def account_label(account: Account) -> str:
    return f"{account.name} @ {account.venue}"  # "(testnet)" where it is one


def market_of(account_ids: list[int], asset: str) -> Market | None:
    """The first enabled market that trades `asset` with all these accounts, for the audit log
    and alerts; None for accounts no one market joins."""
    for market in Market.objects.filter(enabled=True).select_related("mm_account").order_by("pk"):
        accounts = {a.pk for a in market.hedge_accounts()} | {market.mm_account_id}
        if set(account_ids) <= accounts and asset in (market.base, market.quote):
            return market
    return None


@dataclass
class Position:
    """One account's holding of one asset, as the panel and the planner see it."""

    account: Account
    asset: str
    free: Decimal
    used: Decimal
    total: Decimal
    taken_at: datetime | None
    incoming: Decimal = ZERO
    band_row: InventoryBand | None = None
    band: Band | None = None
    price: Decimal | None = None  # of one unit, in `value_asset`
    value_asset: str = ""
    flow_per_hour: Decimal = ZERO
    runway: Decimal | None = None
    alert_hours: Decimal = Decimal("6")

    @property
    def key(self) -> str:
        return str(self.account.pk)

    @property
    def label(self) -> str:
        return account_label(self.account)

    @property
    def position(self) -> Decimal:
        return self.total + self.incoming

    @property
    def value(self) -> Decimal | None:
        return None if self.price is None else self.position * self.price

    @property
    def status(self) -> str | None:
        return None if self.band is None else self.band.status(self.position)

    @property
    def runway_short(self) -> bool:
        return self.runway is not None and self.runway < self.alert_hours

    def holding(self) -> Holding | None:
        """The planner's view; a runway under its threshold asks for the target, not the minimum."""
        if self.band is None or self.band_row is None:
            return None
        band, note = self.band, ""
        if self.runway_short and band.minimum < band.target:
            band = replace(band, minimum=band.target)
            note = (
                f"it runs out in {duration(self.runway)} at the recent flow, under the "
                f"{plain(self.alert_hours)} h alert: planned to its target "
                f"{in_asset(band.target, self.asset)}"
            )
        return Holding(
            account=self.key,
            label=self.label,
            asset=self.asset,
            free=self.free,
            total=self.total,
            band=band,
            incoming=self.incoming,
            reserve=self.band_row.reserve,
            note=note,
            set_band=self.band,
        )


@dataclass
class Exposure:
    """A market's base asset across its accounts, against what the exchange means to hold."""

    market: Market
    held: Decimal  # every account's total, plus transfers in flight
    pending_hedges: Decimal  # signed: what the hedges not yet done will add
    target: Decimal
    unhedged_since: datetime | None

    @property
    def net(self) -> Decimal:
        return self.held + self.pending_hedges - self.target

    @property
    def unhedged_age_seconds(self) -> float | None:
        if self.unhedged_since is None:
            return None
        return (timezone.now() - self.unhedged_since).total_seconds()


@dataclass
class Inventory:
    positions: list[Position] = field(default_factory=list)
    exposures: list[Exposure] = field(default_factory=list)
    marks: dict[int, Decimal | None] = field(default_factory=dict)  # market id -> mark
    missing: list[str] = field(default_factory=list)  # banded holdings with no balance yet

    def of(self, account_id: int, asset: str) -> Position | None:
        return next(
            (p for p in self.positions if p.account.pk == account_id and p.asset == asset), None
        )

    def holdings(self, asset: str) -> dict[str, Holding]:
        found = (p.holding() for p in self.positions if p.asset == asset)
        return {h.account: h for h in found if h is not None}

    def assets(self) -> list[str]:
        return sorted({p.asset for p in self.positions if p.band is not None})


# --- reading it -------------------------------------------------------------------------------


def read_inventory(now: datetime | None = None) -> Inventory:
    now = now or timezone.now()
    markets = list(
        Market.objects.filter(enabled=True)
        .select_related("mm_account__venue", "hedge_account__venue")
        .order_by("pk")
    )
    wanted: dict[tuple[int, str], Account] = {}
    for market in markets:
        for account in market.hedge_accounts() + [market.mm_account]:
            for asset in (market.base, market.quote):
                wanted[(account.pk, asset)] = account
    bands = {
        (b.account_id, b.asset): b
        for b in InventoryBand.objects.select_related("account__venue", "market")
    }
    for (account_id, asset), band in bands.items():
        wanted.setdefault((account_id, asset), band.account)
    inventory = Inventory(marks={m.pk: mark_price(m) for m in markets})
    incoming = in_flight()
    policies = {}
    for (account_id, asset), account in sorted(wanted.items(), key=lambda kv: (kv[1].pk, kv[0][1])):
        snapshot = (
            BalanceSnapshot.objects.filter(account_id=account_id, asset=asset)
            .order_by("-taken_at", "-id")
            .first()
        )
        band_row = bands.get((account_id, asset))
        if snapshot is None:
            if band_row is not None:
                inventory.missing.append(f"{account_label(account)} {asset}")
            continue
        policy = policies.setdefault(asset, policy_for(asset))
        position = Position(
            account=account,
            asset=asset,
            free=snapshot.free,
            used=snapshot.used,
            total=snapshot.total,
            taken_at=snapshot.taken_at,
            incoming=incoming.get((account_id, asset), ZERO),
            band_row=band_row,
            alert_hours=policy.runway_alert_hours,
        )
        position.flow_per_hour = trading_flow(account, asset, now, policy.flow_window_minutes)
        position.runway = runway_hours(position.position, ZERO, position.flow_per_hour)
        inventory.positions.append(position)
    _value(inventory, markets)
    for position in inventory.positions:
        if position.band_row is not None:
            position.band = resolve_band(position.band_row, inventory, markets)
    inventory.exposures = [exposure(m, inventory) for m in markets]
    return inventory


def in_flight() -> dict[tuple[int, str], Decimal]:
    """What is on its way to each account, net of fees: counted where it is going."""
    result: dict[tuple[int, str], Decimal] = {}
    for t in TransferProposal.objects.filter(state__in=TransferProposal.IN_FLIGHT):
        amount = t.sent_amount if t.sent_amount is not None else t.amount
        fee = t.sent_fee if t.sent_fee is not None else t.fee
        key = (t.destination_id, t.asset)
        result[key] = result.get(key, ZERO) + amount - fee
    return result


def mark_price(market: Market) -> Decimal | None:
    """The hedge venue's mid (the outside market), else the last fill's price."""
    cached = _marks.get(market.pk)
    if cached is not None and time.monotonic() - cached[0] < MARK_SECONDS:
        return cached[1]
    price = None
    try:
        hedge = market.hedge_account
        book = stream_state.read_book(venue_for(hedge), hedge.venue_id, market.symbol, 5)
        price = mid_price(
            [(dec(p), dec(a)) for p, a in book["bids"]], [(dec(p), dec(a)) for p, a in book["asks"]]
        )
    except ccxt.BaseError:
        price = None
    if price is None:
        price = (
            Fill.objects.filter(market=market)
            .order_by("-timestamp", "-id")
            .values_list("price", flat=True)
            .first()
        )
    _marks[market.pk] = (time.monotonic(), price)
    return price


def _value(inventory: Inventory, markets: list[Market]) -> None:
    """Price each holding in its market's quote asset: the quote at 1, the base at the mark."""
    prices: dict[str, tuple[Decimal | None, str]] = {}
    for market in markets:
        prices.setdefault(market.quote, (Decimal(1), market.quote))
        prices.setdefault(market.base, (inventory.marks.get(market.pk), market.quote))
    for position in inventory.positions:
        position.price, position.value_asset = prices.get(position.asset, (None, ""))


def resolve_band(row: InventoryBand, inventory: Inventory, markets: list[Market]) -> Band | None:
    """The band in amounts. A share band is a share of its pair's value (both assets, every bot
    account of the market, at the mark): internal transfers leave that value unchanged, so the
    band holds still while the planner moves funds. None while there is no mark."""
    if row.unit == InventoryBand.AMOUNT:
        return Band(row.minimum, row.target, row.maximum)
    market = row.market
    mark = inventory.marks.get(market.pk)
    if mark is None or mark <= 0:
        return None
    accounts = {a.pk for a in market.hedge_accounts()} | {market.mm_account_id}
    pair_value = sum(
        (p.position * (mark if p.asset == market.base else 1))
        for p in inventory.positions
        if p.account.pk in accounts and p.asset in (market.base, market.quote)
    )
    per_unit = mark if row.asset == market.base else Decimal(1)
    return Band(
        *(share * pair_value / per_unit for share in (row.minimum, row.target, row.maximum))
    )


def trading_flow(account: Account, asset: str, now: datetime, window_minutes: int) -> Decimal:
    """The account's net change per hour from trading over the window: snapshot moves, less
    the transfers that left or arrived meanwhile."""
    start = now - timedelta(minutes=window_minutes)
    rows = list(
        BalanceSnapshot.objects.filter(
            account=account, asset=asset, taken_at__gt=start, taken_at__lte=now
        )
        .order_by("taken_at", "id")
        .values_list("taken_at", "total")
    )
    before = (
        BalanceSnapshot.objects.filter(account=account, asset=asset, taken_at__lte=start)
        .order_by("-taken_at", "-id")
        .values_list("total", flat=True)
        .first()
    )
    if before is None:
        # Watched for less than the window: measure over what there is, once that is long
        # enough to mean something (a few minutes of a new desk say nothing about a day).
        if len(rows) < 2 or now - rows[0][0] < MIN_FLOW_SPAN:
            return ZERO
        start, before, rows = rows[0][0], rows[0][1], rows[1:]
    events, previous = [], before
    for taken_at, total in rows:
        events.append(FlowEvent(_ms(taken_at), total - previous))
        previous = total
    moved = TransferProposal.objects.filter(asset=asset).filter(
        Q(source=account, sent_at__gt=start, sent_at__lte=now)
        | Q(destination=account, completed_at__gt=start, completed_at__lte=now)
    )
    for t in moved:
        amount = t.sent_amount if t.sent_amount is not None else t.amount
        if t.source_id == account.pk:
            events.append(FlowEvent(_ms(t.sent_at), amount))  # not trading: add it back
        else:
            fee = t.sent_fee if t.sent_fee is not None else t.fee
            events.append(FlowEvent(_ms(t.completed_at), -(amount - fee)))
    if now <= start:
        return ZERO
    return hourly_flow(events, _ms(start), _ms(now))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def exposure(market: Market, inventory: Inventory) -> Exposure:
    accounts = {a.pk for a in market.hedge_accounts()} | {market.mm_account_id}
    held = sum(
        (
            p.position
            for p in inventory.positions
            if p.account.pk in accounts and p.asset == market.base
        ),
        ZERO,
    )
    pending, since = unhedged(market)
    return Exposure(market, held, pending, market.target_base, since)


def unhedged(market: Market) -> tuple[Decimal, datetime | None]:
    """Base the market's hedge intents not yet closed will still move (buys add, sells take
    away), and when the oldest of them was filled: in flight, waiting in the pending hedge
    position, or failed (it counts until someone retries, hedges by hand or writes it off)."""
    rows = (
        Hedge.objects.filter(fill__market=market, state__in=Hedge.OPEN)
        .select_related("fill")
    )
    amount, oldest = ZERO, None
    for hedge in rows:
        left = hedge.amount - hedge.filled
        if left <= 0:
            continue
        amount += left if hedge.side == "buy" else -left
        filled_at = datetime.fromtimestamp(hedge.fill.timestamp / 1000, tz=UTC)
        oldest = filled_at if oldest is None else min(oldest, filled_at)
    return amount, oldest
