"""The overview: every market in one table, each figure against its target band, live.

The table's rows are one template (partials/overview_rows.html): the page renders it, and
publish_overview (dashboard.live.overview_push) renders it again after each health round and pushes the HTML
to every open overview, where htmx's websocket extension swaps it in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from bots.desk.health import book_health, check_workers, uptime_today, watched_share, worker_silence
from bots.engine.desk import liquidity
from bots.engine.figures import fixed, in_asset, in_price
from bots.engine.treasury.exposure import net_exposure
from bots.models import BalanceSnapshot, Breach, HealthSample, Market, MarketTargets
from bots.models.health import STATUS_CHOICES

ROWS_TEMPLATE = "partials/overview_rows.html"


@dataclass(frozen=True)
class Figure:
    text: str
    status: str = ""  # green, amber, red; empty when the figure has no target
    title: str = ""


def _pct(value) -> str:
    return "–" if value is None else f"{value:.1f}%"


def _watched(share) -> str:
    minutes = share * 24 * 60
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def _latest_base(market: Market) -> list:
    accounts = [market.mm_account, *market.hedge_accounts()]
    rows = []
    for account in accounts:
        row = (
            BalanceSnapshot.objects.filter(account=account, asset=market.base)
            .order_by("-taken_at", "-id")
            .values_list("total", flat=True)
            .first()
        )
        if row is not None:
            rows.append(row)
    return rows


def market_row(market: Market, now) -> dict:
    targets = MarketTargets.current(market).bands()
    sample = HealthSample.objects.filter(market=market).order_by("-taken_at", "-id").first()
    row = {
        "market": market,
        "venue": str(market.mm_account.venue),
        "sample": sample,
        "stale": sample is None or now - sample.taken_at > timedelta(seconds=3 * settings.HEALTH_SAMPLE_SECONDS),
        "exposure": in_asset(net_exposure(_latest_base(market), market.target_base), market.base),
        "since": None,
    }
    if sample is None:
        return {**row, "status": "", "status_text": "no samples yet"}
    health = book_health(sample)
    grades = liquidity.grade_book(health, targets) if not sample.error else {}
    uptime = uptime_today(market, now)
    share = watched_share(market, now)
    slow = {
        liquidity.UPTIME: liquidity.grade(uptime, targets.uptime_pct),
        liquidity.VOLUME: liquidity.grade_volume(sample.volume_24h, targets.listing, share),
    }
    status = liquidity.RED if sample.error else liquidity.worst([*grades.values(), *slow.values()])
    breach = Breach.objects.filter(market=market, ended_at__isnull=True).order_by("started_at").first()
    listing = targets.listing
    depth = []
    for pct in liquidity.DEPTH_BANDS_PCT:
        band = targets.depth[pct]
        rule = f"; listing rule ≥ {listing.min_depth:,.0f}" if pct == listing.depth_pct else ""
        for side in ("buy", "sell"):
            key = liquidity.figure_key(side, pct)
            depth.append(
                Figure(fixed(health.depth[(side, pct)], 0), grades.get(key, ""), band.describe(f" {market.quote}") + rule)
            )
    return {
        **row,
        "mid": in_price(sample.mid, market.quote),
        "spread": Figure(
            fixed(sample.spread_bps, 1), grades.get(liquidity.SPREAD, ""),
            targets.spread.describe(" bps") + f"; listing rule ≤ {listing.max_spread_bps.normalize():f} bps",
        ),
        "two_sided": Figure("yes" if sample.two_sided else "no", grades.get(liquidity.TWO_SIDED, "")),
        "depth": depth,
        "uptime": Figure(_pct(uptime), slow[liquidity.UPTIME], targets.uptime_pct.describe("%")),
        "volume": Figure(
            fixed(sample.volume_24h, 0), slow[liquidity.VOLUME],
            f"MM bot's fills; listing rule ≥ {listing.min_daily_volume:,.0f} {market.quote} a day"
            + ("" if share == 1 else
               f", {liquidity.daily_volume_due(listing, share):,.0f} for the {_watched(share)} watched so far"),
        ),
        "status": status,
        "status_text": dict(STATUS_CHOICES)[status] if not sample.error else "venue error",
        "since": breach.started_at if breach and status == liquidity.RED else None,
        "breach": breach,
    }


def overview_context(now=None, published_at: int | None = None) -> dict:
    now = now or timezone.now()
    markets = Market.objects.filter(kind=Market.BOOK).select_related(
        "mm_account__venue", "hedge_account__venue"
    ).order_by("symbol")  # a broker market has no book to grade: the OTC page shows it
    silence = worker_silence(now)
    return {
        "rows": [market_row(market, now) for market in markets],
        "generated_at": now,
        "published_at": published_at if published_at is not None else int(time.time() * 1000),
        "worker_silence": silence,
        "sample_seconds": settings.HEALTH_SAMPLE_SECONDS,
        "workers_silent": silence is not None and silence > settings.WORKER_SILENT_SECONDS,
    }


def overview_fragment(published_at: int) -> str:
    """The rows as pushed over the websocket: swapped in place of the page's by their id."""
    return render_to_string(ROWS_TEMPLATE, {**overview_context(published_at=published_at), "oob": True})


@require_GET
@login_required
def overview(request):
    check_workers()
    context = overview_context()
    if request.htmx:
        return render(request, ROWS_TEMPLATE, context)
    return render(request, "overview.html", context)
