"""The dead man's switch: quotes nobody manages any more are pulled.

Every market-making tick stamps its market's row (Market.last_tick_at) and, on a venue that can
(ccxt's cancelAllOrdersAfter), arms the venue's own timer for BALLAST_DEADMAN_SECONDS. The
`deadman` process (`manage.py deadman`) runs `watch`: a plain loop on the database, with neither
Celery nor Redis, so that it outlives them. When a market's ticks stop for longer than the
setting, it cancels every order of the market's MM account, raises a `quotes_pulled` alert and
writes a `dead_man_switch` audit entry; while the silence lasts it looks again every period.
When ticks resume the bot quotes as before, and the alert resolves. A resume (or enabling the
market) starts the count again: the time a market was paused is no silence.

It never fights the operator: it changes no market's state, and a paused, killed or disabled
market (which no tick quotes) is looked at only when the records say it has orders live.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone

from bots.desk.alerts import raise_alert, resolve_cause
from bots.desk.audit import record
from bots.market_making.quoter import MarketTick
from bots.models import Alert, Market, Order
from bots.venues import ccxt_errors as ccxt
from bots.venues import limiter
from bots.venues.errors import describe

log = logging.getLogger(__name__)

ACTOR = "dead man's switch"


def check(now: datetime | None = None) -> list[str]:
    """One look at every market; returns what was done, a line per market acted on."""
    now = now or timezone.now()
    limit = timedelta(seconds=settings.DEADMAN_SECONDS)
    done = []
    rows = Market.objects.filter(last_tick_at__isnull=False).values_list(
        "pk", "last_tick_at", "started_at", "quotes_pulled_at", "enabled", "state"
    )
    for pk, last_tick, started, pulled, enabled, state in rows:
        if pulled is not None and last_tick > pulled:
            done.append(_resumed(pk))
            pulled = None
        # A paused or disabled market has no ticks: the time before its resume is no silence.
        since = max(last_tick, started) if started is not None else last_tick
        if now - since <= limit or (pulled is not None and now - pulled <= limit):
            continue
        # A market no tick quotes has no quotes, unless a cancel failed: its records say so.
        expects_ticks = enabled and state not in Market.STOPPED
        if expects_ticks or _live_orders(pk):
            done.append(pull(Market.objects.get_for_work(pk), now, now - since, first=pulled is None))
    return [line for line in done if line]


def _live_orders(market_id: int) -> int:
    """The market's orders its records say are on the venue, or may be."""
    return Order.objects.filter(market_id=market_id, state__in=[Order.OPEN, Order.SENDING]).count()


def pull(market: Market, now: datetime, silence: timedelta, *, first: bool) -> str:
    """Cancel every order of the market's MM account on its symbol; alert and log it."""
    seconds = silence.total_seconds()
    where = reverse("market", args=[market.slug]) + "#bot-panel"
    # No fill capture here: it would queue hedges through Celery; the next tick, or the hedging
    # worker the venue pushes fills to, captures what raced the cancels.
    tick = MarketTick(market, on_hedge=lambda hedge_id: None, now_ms=int(now.timestamp() * 1000))
    live_before = _live_orders(market.pk)
    try:
        # A stop: its requests go without the shared budget while Redis is down, when the switch
        # is needed most (it waited for Redis before: found by the restart drill).
        with limiter.priority(limiter.STOP):
            count = tick.cancel_everything()
    except ccxt.BaseError as exc:
        message = (
            f"{market.symbol}: no market-making tick for {seconds:.0f} s and its quotes could not "
            f"be cancelled ({describe(exc)}); trying again every second"
        )
        raise_alert(Alert.QUOTES_PULLED, market, message, where, send_now=True)
        return message
    # Orders the venue's own switch (cancelAllOrdersAfter) had pulled already, or that filled.
    gone = max(0, live_before - _live_orders(market.pk) - count)
    quoting = market.enabled and market.state not in Market.STOPPED
    pulled = f"{count} order(s) cancelled" + (f", {gone} already gone from the venue" if gone else "")
    why = (
        f"{ACTOR}: no tick for {seconds:.0f} s (limit {settings.DEADMAN_SECONDS:g} s); "
        f"{pulled}; the bot quotes again at its next tick"
    )
    fields: dict = {"quotes_pulled_at": now}
    if quoting:
        books = (market.quote_summary or {}).get("hedge_books", [])  # the depth chart draws them
        fields["quote_summary"] = {"at": tick.now_ms, "levels": [], "hold": why, "hedge_books": books}
    Market.objects.filter(pk=market.pk).update(**fields)
    if not (count or (first and quoting)):
        return ""
    record(
        "dead_man_switch", actor=ACTOR, market=market, reason=why, canceled=count, already_gone=gone,
        silence_seconds=round(seconds, 1),
    )
    message = (
        f"{market.symbol}: no market-making tick for {seconds:.0f} s: quotes pulled, {pulled}. "
        "Workers or Redis may be down."
    )
    raise_alert(Alert.QUOTES_PULLED, market, message, where, send_now=True)
    return message


def _resumed(market_id: int) -> str:
    """Ticks came back after a pull: the bot quotes again; the alert resolves."""
    Market.objects.filter(pk=market_id).update(quotes_pulled_at=None)
    if not resolve_cause(Alert.QUOTES_PULLED, Market(pk=market_id)):
        return ""
    market = Market.objects.get(pk=market_id)
    record("resume", actor=ACTOR, market=market, reason="ticks resumed: the bot quotes again")
    return f"{market.symbol}: ticks resumed"


def watch(stop: threading.Event, every: float = 1.0) -> None:
    """Check every `every` seconds until `stop` is set; a failed round is logged, not fatal."""
    while not stop.is_set():
        try:
            for line in check():
                log.warning("%s", line)
        except Exception:  # a database hiccup must not end the watch for good
            log.exception("the dead man's switch could not check the markets")
        finally:
            close_old_connections()
        stop.wait(every)
