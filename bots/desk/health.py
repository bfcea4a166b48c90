"""Sampling each market's liquidity on a schedule, and the alerts that follow from it.

Each round reads every market's own-venue book and the reference book it quotes around, grades
the figures with bots.engine.desk.liquidity against the market's targets, stores a HealthSample,
opens and closes breaches, and raises or resolves alerts: spread or depth out of band, venue
errors, a stale reference, failed hedges. Whether any worker runs these rounds at all is the
heartbeat's job (check_workers), and whether beat runs at all its own heartbeat's (check_beat):
both watched by the `watchdog` process (bots.desk.watchdog), which is neither of them.
"""

from __future__ import annotations

import logging
import socket
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from bots.desk.alerts import raise_alert, resolve_cause
from bots.engine.books import mid_price
from bots.engine.desk import liquidity
from bots.engine.rules import dec
from bots.models import Alert, Breach, Fill, HealthSample, Heartbeat, Hedge, Market, MarketTargets
from bots.models.fields import ExactSum
from bots.platform import beat_heartbeat, locks
from bots.platform.locks import market_lock
from bots.venues import ccxt_errors as ccxt
from bots.venues import stream_state, venue_for
from bots.venues.errors import describe

log = logging.getLogger(__name__)

# Depth within 2% of the mid can sit far down a busy book; the stream keeps the own books as deep.
BOOK_LEVELS = stream_state.DEEP_BOOK_LEVELS
WORKER = "worker"
KEEP_SAMPLES = timedelta(days=8)  # a week of compliance, and a day to spare

DEPTH_LABELS = {
    liquidity.figure_key(side, pct): f"{'bid' if side == 'buy' else 'ask'} depth ±{pct}%"
    for side in ("buy", "sell")
    for pct in liquidity.DEPTH_BANDS_PCT
}


def market_url(market: Market, anchor: str = "") -> str:
    return reverse("market", args=[market.slug]) + anchor


def sample_all() -> list[HealthSample]:
    """One round over every enabled market; skipped while another round is still running."""
    with market_lock("health", 0, expire_seconds=60) as held:
        if not held:
            return []
        markets = Market.objects.filter(enabled=True, kind=Market.BOOK).select_related(
            "mm_account__venue", "hedge_account__venue"
        )
        samples = [sample_market(market) for market in markets]
        alert_failed_hedges()
        return samples


def sample_market(market: Market, now=None) -> HealthSample:
    now = now or timezone.now()
    targets = MarketTargets.for_market(market).bands()
    previous = HealthSample.objects.filter(market=market).order_by("-taken_at", "-id").first()
    volume = volume_24h(market, now)
    share = watched_share(market, now)
    reference_mid, reference_moved_at = _reference(market, previous, now)
    own = market.mm_account.venue
    try:
        # The book the stream process keeps (as deep: stream_state.DEEP_BOOK_LEVELS) while its
        # stream is live, however quiet, else by REST: a sample every few seconds by REST would
        # cost the venue's budget more than the market's ticks.
        book = stream_state.read_book(venue_for(market.mm_account), own.pk, market.symbol, BOOK_LEVELS,
                                      quiet_ok=True)
    except ccxt.BaseError as exc:
        raise_alert(Alert.VENUE_ERROR, market, f"{own.label}: {describe(exc)}", market_url(market),
                    key=f"venue-{own.name}")
        return HealthSample.objects.create(
            market=market, taken_at=now, status=liquidity.RED, error=describe(exc), volume_24h=volume,
            reference_mid=reference_mid, reference_moved_at=reference_moved_at,
            grades={liquidity.TWO_SIDED: liquidity.RED},
        )
    if market.state != Market.DEGRADED:
        resolve_cause(Alert.VENUE_ERROR, market, key=f"venue-{own.name}")
    health = liquidity.measure(_levels(book["bids"]), _levels(book["asks"]))
    grades = liquidity.grade_book(health, targets)
    sample = HealthSample.objects.create(
        market=market,
        taken_at=now,
        mid=health.mid,
        spread_bps=health.spread_bps,
        two_sided=health.two_sided,
        volume_24h=volume,
        reference_mid=reference_mid,
        reference_moved_at=reference_moved_at,
        status=liquidity.worst(grades.values()),
        listing_ok=liquidity.meets_listing(health, targets.listing, volume, share),
        grades=grades,
        **{
            f"{'bid' if side == 'buy' else 'ask'}_depth_{_band(pct)}": amount
            for (side, pct), amount in health.depth.items()
        },
    )
    slow = {
        liquidity.VOLUME: liquidity.grade_volume(volume, targets.listing, share),
        liquidity.UPTIME: liquidity.grade(uptime_today(market, now), targets.uptime_pct),
    }
    track_breaches(market, {**grades, **slow}, _details(market, health, volume), now)
    _band_alerts(market, health, grades, targets)
    return sample


def _levels(rows) -> list[tuple[Decimal, Decimal]]:
    return [(dec(price), dec(amount)) for price, amount in rows]


def _band(pct: Decimal) -> str:
    return {Decimal("0.5"): "05", Decimal("1"): "1", Decimal("2"): "2"}[pct]


def book_health(sample: HealthSample) -> liquidity.BookHealth:
    """A stored sample's figures, to grade again (against targets changed since, say)."""
    depth = {
        (side, pct): sample.depth(side, _band(pct))
        for side in ("buy", "sell")
        for pct in liquidity.DEPTH_BANDS_PCT
    }
    return liquidity.BookHealth(sample.mid, sample.spread_bps, depth, sample.two_sided)


def volume_24h(market: Market, now) -> Decimal:
    """Quote currency the MM bot traded in the last 24 h: on the own venue, a floor under the
    market's whole volume (users trading among themselves add to it)."""
    since_ms = int((now - timedelta(hours=24)).timestamp() * 1000)
    total = Fill.objects.filter(market=market, timestamp__gte=since_ms).aggregate(v=ExactSum("cost"))["v"]
    return total or Decimal(0)


def watched_share(market: Market, now) -> Decimal:
    """The share of the last day the desk has sampled the market (1 once it has for a day):
    the daily volume rule is held pro rata to it."""
    first = HealthSample.objects.filter(market=market).order_by("taken_at").values_list("taken_at", flat=True).first()
    if first is None:
        return Decimal(0)
    return liquidity.day_share(Decimal(str((now - first).total_seconds())))


def uptime_today(market: Market, now) -> Decimal | None:
    """Share of today's samples (UTC) with both sides quoted; a venue that could not be read
    counts as not quoted, since users could not trade there either."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = HealthSample.objects.filter(market=market, taken_at__gte=start, taken_at__lte=now).aggregate(
        total=Count("id"), two_sided=Count("id", filter=Q(two_sided=True))
    )
    return liquidity.share_pct(counts["two_sided"], counts["total"])


def compliance(market: Market, since, until=None) -> dict:
    """Share of samples since `since` within target (green) and within the listing rules."""
    rows = HealthSample.objects.filter(market=market, taken_at__gte=since)
    if until is not None:
        rows = rows.filter(taken_at__lte=until)
    counts = rows.aggregate(
        total=Count("id"),
        green=Count("id", filter=Q(status=liquidity.GREEN)),
        listing=Count("id", filter=Q(listing_ok=True)),
    )
    return {
        "samples": counts["total"],
        "in_band_pct": liquidity.share_pct(counts["green"], counts["total"]),
        "listing_pct": liquidity.share_pct(counts["listing"], counts["total"]),
    }


def _reference(market: Market, previous: HealthSample | None, now) -> tuple[Decimal | None, object]:
    """The reference mid and when it last moved; alerts for a reference that is unreadable,
    empty, or has not moved for longer than a live market stands still."""
    venue = market.hedge_account.venue
    key = f"venue-{venue.name}"
    try:
        # The streamed book when the stream process keeps a fresh one, else by REST.
        book = stream_state.read_book(venue_for(market.hedge_account), venue.pk, market.symbol, 1)
    except ccxt.BaseError as exc:
        raise_alert(Alert.VENUE_ERROR, market, f"{venue.label}: {describe(exc)}", market_url(market), key=key)
        return None, previous.reference_moved_at if previous else None
    resolve_cause(Alert.VENUE_ERROR, market, key=key)
    mid = mid_price(_levels(book["bids"]), _levels(book["asks"]))
    if mid is None:
        raise_alert(Alert.REFERENCE_STALE, market,
                    f"No reference price: the {symbol_on(market, venue)} book is empty.", market_url(market))
        return None, previous.reference_moved_at if previous else None
    moved_at = now
    if previous is not None and previous.reference_mid == mid and previous.reference_moved_at:
        moved_at = previous.reference_moved_at
    still_for = (now - moved_at).total_seconds()
    if still_for > settings.REFERENCE_STALE_SECONDS:
        raise_alert(
            Alert.REFERENCE_STALE, market,
            f"The reference price on {venue.label} has not moved for {still_for:.0f} s "
            f"(stuck at {mid.normalize():f}): its feed may have stopped.",
            market_url(market),
        )
    else:
        resolve_cause(Alert.REFERENCE_STALE, market)
    return mid, moved_at


def symbol_on(market: Market, venue) -> str:
    return f"{market.symbol} on {venue.label}"


def _details(market: Market, health: liquidity.BookHealth, volume: Decimal) -> dict[str, str]:
    quote = market.quote
    details = {
        liquidity.SPREAD: "no spread: a side is empty" if health.spread_bps is None
        else f"spread {health.spread_bps:.1f} bps",
        liquidity.TWO_SIDED: "both sides quoted" if health.two_sided else "a side is empty",
        liquidity.VOLUME: f"24 h volume {volume:,.0f} {quote}",
        liquidity.UPTIME: "two-sided uptime today below target",
    }
    for (side, pct), amount in health.depth.items():
        key = liquidity.figure_key(side, pct)
        details[key] = f"{DEPTH_LABELS[key]} {amount:,.0f} {quote}"
    return details


def track_breaches(market: Market, grades: dict[str, str], details: dict[str, str], now) -> None:
    open_rows = {b.figure: b for b in Breach.objects.filter(market=market, ended_at__isnull=True)}
    changes = liquidity.breach_changes(open_rows, grades)
    for figure in sorted(changes.opened):
        Breach.objects.create(market=market, figure=figure, started_at=now, detail=details.get(figure, "")[:200])
    if changes.closed:
        Breach.objects.filter(pk__in=[open_rows[f].pk for f in changes.closed]).update(ended_at=now)


DEPTH_FIGURES = tuple(DEPTH_LABELS)


def _held(market: Market, figures: tuple[str, ...]) -> bool:
    """Whether the market's last LIQUIDITY_ALERT_SAMPLES samples (this one included) each had
    one of `figures` red. A fill takes a quote level out for a few seconds: a breach that one
    sample catches colours that sample, and raises an alert only when it persists."""
    count = settings.LIQUIDITY_ALERT_SAMPLES
    recent = (
        HealthSample.objects.filter(market=market)
        .order_by("-taken_at", "-id")
        .values_list("grades", flat=True)[:count]
    )
    runs = [any(grades.get(f) == liquidity.RED for f in figures) for grades in recent]
    return len(runs) == count and all(runs)


def _band_alerts(market: Market, health: liquidity.BookHealth, grades: dict[str, str], targets) -> None:
    """Spread and depth alerts: raised once a breach has held for LIQUIDITY_ALERT_SAMPLES samples
    in a row (an open alert stays open while it lasts), resolved by the first sample without it."""
    url = market_url(market)
    if grades[liquidity.SPREAD] != liquidity.RED:
        resolve_cause(Alert.SPREAD_OUT_OF_BAND, market)
    elif _held(market, (liquidity.SPREAD,)):
        if health.spread_bps is None:
            message = "Only one side of the book is quoted: there is no spread."
        else:
            message = (
                f"Spread {health.spread_bps:.1f} bps: red past {targets.spread.alarm.normalize():f} bps "
                f"(listing rule {targets.listing.max_spread_bps.normalize():f} bps)."
            )
        raise_alert(Alert.SPREAD_OUT_OF_BAND, market, message, url)
    short = [
        f"{DEPTH_LABELS[liquidity.figure_key(side, pct)]} {amount:,.0f} {market.quote}"
        f" (red below {max(targets.depth[pct].alarm, _listing_floor(targets, pct)):,.0f})"
        for (side, pct), amount in health.depth.items()
        if grades[liquidity.figure_key(side, pct)] == liquidity.RED
    ]
    if not short:
        resolve_cause(Alert.DEPTH_OUT_OF_BAND, market)
    elif _held(market, DEPTH_FIGURES):
        raise_alert(Alert.DEPTH_OUT_OF_BAND, market, "Depth short: " + "; ".join(short) + ".", url)


def _listing_floor(targets: liquidity.Targets, pct: Decimal) -> Decimal:
    return targets.listing.min_depth if pct == targets.listing.depth_pct else Decimal(0)


def failed_hedge_states() -> list[str]:
    # "partial" is a final failure in the first hedger; later ones retry it and keep "failed".
    return [s for s in (Hedge.FAILED, "partial") if s in dict(Hedge.STATE_CHOICES)]


def alert_failed_hedges() -> None:
    """One alert per hedge that needs an operator; resolved once it no longer does."""
    failed = Hedge.objects.filter(state__in=failed_hedge_states()).select_related("fill__market")
    failing_keys = set()
    alerted = set(
        Alert.objects.filter(kind=Alert.HEDGE_FAILED).exclude(state=Alert.RESOLVED).values_list("key", flat=True)
    )
    ever = set(Alert.objects.filter(kind=Alert.HEDGE_FAILED).values_list("key", flat=True))
    for hedge in failed:
        key = f"hedge-{hedge.pk}"
        failing_keys.add(key)
        if key in ever:
            continue  # once per hedge: an operator who resolved it has seen it
        market = hedge.fill.market
        raise_alert(
            Alert.HEDGE_FAILED, market,
            f"Hedge {hedge.pk} ({hedge.side} {hedge.amount.normalize():f} {market.base}) {hedge.state}: "
            f"{hedge.error or 'no reason recorded'}",
            reverse("hedges", args=[market.slug]) + f"#hedge-{hedge.pk}", key=key,
        )
    for key in alerted - failing_keys:
        Alert.objects.filter(kind=Alert.HEDGE_FAILED, key=key).exclude(state=Alert.RESOLVED).update(
            state=Alert.RESOLVED, resolved_at=timezone.now(), resolved_by=None
        )


def prune_samples(now=None) -> int:
    cutoff = (now or timezone.now()) - KEEP_SAMPLES
    deleted, _ = HealthSample.objects.filter(taken_at__lt=cutoff).delete()
    return deleted


# --- workers ---------------------------------------------------------------------------------


def beat(hostname: str = "") -> None:
    """The heartbeat, written by whichever worker runs the task beat schedules."""
    Heartbeat.objects.update_or_create(
        name=WORKER, defaults={"beat_at": timezone.now(), "hostname": hostname or socket.gethostname()}
    )
    resolve_cause(Alert.WORKER_SILENT, None)


def worker_silence(now=None) -> float | None:
    """Seconds since a worker last ran the heartbeat task; None when none ever has."""
    row = Heartbeat.objects.filter(name=WORKER).first()
    if row is None:
        return None
    return ((now or timezone.now()) - row.beat_at).total_seconds()


def check_workers(*, send_now: bool = False, missing_is_silent: bool = False) -> bool:
    """Raise the worker-silent alert when the heartbeat is old; True when workers are alive.

    A heartbeat never written is silence only for the watchdog after its grace period: pages
    opened in the seconds after start-up must not cry wolf.
    """
    silence = worker_silence()
    limit = settings.WORKER_SILENT_SECONDS
    if silence is not None and silence <= limit:
        return True
    if silence is None and not missing_is_silent:
        return False
    message = (
        "No Celery worker has ever run the heartbeat task."
        if silence is None
        else f"No Celery worker has run a task for {silence:.0f} s (the heartbeat is every "
        f"{settings.HEARTBEAT_SECONDS:g} s): ticks, hedges and samples are not running."
    )
    raise_alert(Alert.WORKER_SILENT, None, message, reverse("morning-check"), send_now=send_now)
    return False


# --- beat ------------------------------------------------------------------------------------


def beat_silence(now: float | None = None, client=None) -> float | None:
    """Seconds since the active beat last ticked (bots.platform.beat_heartbeat); None when no
    beat ever has. Raises redis.RedisError when Redis cannot be read."""
    mark = beat_heartbeat.read(client or locks.client())
    if mark is None:
        return None
    return max(0.0, (time.time() if now is None else now) - mark[0])


def check_beat(*, send_now: bool = False, missing_is_silent: bool = False) -> bool:
    """Raise the beat-silent alert when no beat has ticked lately, resolve it once one does;
    True when a beat is alive. A heartbeat never written is silence only when the caller says so
    (the watchdog, after its grace period)."""
    silence = beat_silence()
    if silence is not None and silence <= settings.BEAT_SILENT_SECONDS:
        resolve_cause(Alert.BEAT_SILENT, None)
        return True
    if silence is None and not missing_is_silent:
        return False
    message = (
        "No Celery beat has ever ticked."
        if silence is None
        else f"No Celery beat has ticked for {silence:.0f} s: ticks, hedge sweeps, health samples "
        "and every other periodic task have stopped."
    )
    raise_alert(Alert.BEAT_SILENT, None, message, reverse("morning-check"), send_now=send_now)
    return False
