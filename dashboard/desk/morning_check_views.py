"""The morning check: the liquidity playbook's five-minute checklist, run by an operator and kept.

Each item reads the records (and, for balances, the venues) and says pass or fail with the
link to act; an item Ballast cannot check yet says so instead of passing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bots.desk.audit import record
from bots.desk.health import check_workers, failed_hedge_states, worker_silence
from bots.desk.roles import OPERATOR, has_role, role_required
from bots.engine.desk import liquidity
from bots.models import (
    Alert,
    BalanceSnapshot,
    Breach,
    CheckItem,
    HealthSample,
    Hedge,
    Market,
    MorningCheck,
)
from bots.venues import ccxt_errors as ccxt
from bots.venues import venue_for
from bots.venues.errors import describe

OVERNIGHT = timedelta(hours=12)
OLD_PENDING = timedelta(minutes=10)
TICK_FRESH = timedelta(seconds=30)
RUNS_SHOWN = 10


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    result: str
    detail: str
    action_url: str = ""
    action_label: str = ""


def _markets():
    return list(
        Market.objects.filter(enabled=True).select_related("mm_account__venue", "hedge_account__venue")
    )


def balances_reconcile(markets: list[Market]) -> Item:
    """What each bot account holds at its venue now equals the latest balance Ballast recorded."""
    title = "Balances reconcile with the records"
    problems = []
    checked = 0
    accounts = {}
    for market in markets:
        for account in [market.mm_account, *market.hedge_accounts()]:
            accounts.setdefault(account.pk, (account, set()))[1].update({market.base, market.quote})
    for account, assets in accounts.values():
        try:
            live = venue_for(account).fetch_balance()
        except ccxt.BaseError as exc:
            problems.append(f"{account}: could not read the venue ({describe(exc)})")
            continue
        for asset in sorted(assets):
            recorded = (
                BalanceSnapshot.objects.filter(account=account, asset=asset)
                .order_by("-taken_at", "-id").values_list("total", flat=True).first()
            )
            now = Decimal(str((live.get(asset) or {}).get("total") or 0))
            checked += 1
            if recorded is None:
                problems.append(f"{account} {asset}: no balance recorded yet (the venue says {now.normalize():f})")
            elif now != recorded:
                problems.append(
                    f"{account} {asset}: the venue says {now.normalize():f}, the records {recorded.normalize():f}"
                )
    mismatches = _unresolved_hedge_mismatches()
    if mismatches:
        problems.append(f"{mismatches} hedge order(s) whose venue trades differ from the records")
    first = markets[0] if markets else None
    url = reverse("market", args=[first.slug]) if first else ""
    if not accounts:
        return Item("balances", title, CheckItem.NOT_CHECKED, "No enabled market: no accounts to reconcile.")
    if problems:
        return Item("balances", title, CheckItem.FAIL, "\n".join(problems), url, "See the balances")
    return Item("balances", title, CheckItem.PASS, f"{checked} balances across {len(accounts)} accounts match.",
                url, "See the balances")


def _unresolved_hedge_mismatches() -> int:
    try:
        model = apps.get_model("bots", "HedgeMismatch")
    except LookupError:
        return 0  # no reconciler installed: the balance comparison above is the check
    return model.objects.filter(resolved_at__isnull=True).count()


def hedges_done(markets: list[Market], now) -> Item:
    title = "No failed or old pending hedges"
    failed = Hedge.objects.filter(state__in=failed_hedge_states())
    old = Hedge.objects.exclude(state__in=Hedge.FINAL).filter(created_at__lt=now - OLD_PENDING)
    # The hedges page of the first market that needs someone (retry, manual, write off there).
    first = (failed.first() or old.first())
    market = first.fill.market if first else (markets[0] if markets else None)
    url = reverse("hedges", args=[market.slug]) if market else ""
    label = "Act on the hedges" if first else "See the hedges"
    if first:
        parts = []
        if failed.exists():
            parts.append(f"{failed.count()} failed hedge(s) wait for an operator (retry, manual or write off)")
        if old.exists():
            parts.append(f"{old.count()} hedge(s) still unfinished after {OLD_PENDING.seconds // 60} minutes")
        return Item("hedges", title, CheckItem.FAIL, "; ".join(parts) + ".", url, label)
    return Item("hedges", title, CheckItem.PASS, "Every hedge is done or younger than 10 minutes.", url, label)


def within_band_overnight(markets: list[Market], now) -> Item:
    title = "Every market within band overnight"
    since = now - OVERNIGHT
    problems = []
    for market in markets:
        if not HealthSample.objects.filter(market=market, taken_at__gte=since).exists():
            problems.append(f"{market.symbol}: no health samples in the last 12 h, so no proof either way")
            continue
        # The book's bands; a day's volume or uptime is a figure of the whole day, not of the night.
        breaches = Breach.objects.filter(
            market=market, figure__in=liquidity.BOOK_FIGURES, started_at__lt=now
        ).exclude(ended_at__lt=since)
        for breach in breaches.order_by("started_at")[:5]:
            end = "still open" if breach.ended_at is None else f"to {breach.ended_at:%H:%M}"
            problems.append(f"{market.symbol}: {breach.detail or breach.figure} from {breach.started_at:%H:%M} {end}")
    url = reverse("overview")
    if not markets:
        return Item("bands", title, CheckItem.NOT_CHECKED, "No enabled market.")
    if problems:
        return Item("bands", title, CheckItem.FAIL, "\n".join(problems), url, "See the overview")
    return Item("bands", title, CheckItem.PASS, "No market's spread or depth crossed a red line in the last 12 hours.", url,
                "See the overview")


def open_proposals() -> Item:
    title = "Open transfer proposals"
    try:
        model = apps.get_model("bots", "TransferProposal")
    except LookupError:
        return Item("proposals", title, CheckItem.NOT_CHECKED,
                    "Ballast has no transfer proposals yet: rebalancing is not installed.")
    waiting = model.objects.filter(state__in=model.OPEN).count()
    url = reverse("rebalance")
    if waiting:
        return Item("proposals", title, CheckItem.FAIL, f"{waiting} proposal(s) wait for a decision.", url,
                    "Review the proposals")
    return Item("proposals", title, CheckItem.PASS, "No proposal waits for a decision.", url, "See rebalancing")


def feeds_fresh(markets: list[Market], now) -> Item:
    title = "Feeds fresh"
    problems = []
    sample_limit = timedelta(seconds=3 * settings.HEALTH_SAMPLE_SECONDS)
    for market in markets:
        sample = HealthSample.objects.filter(market=market).order_by("-taken_at", "-id").first()
        if sample is None or now - sample.taken_at > sample_limit:
            problems.append(f"{market.symbol}: no fresh health sample")
        elif sample.error:
            problems.append(f"{market.symbol}: the own venue's book could not be read ({sample.error})")
        if sample is not None and sample.reference_moved_at is not None:
            still = (now - sample.reference_moved_at).total_seconds()
            if still > settings.REFERENCE_STALE_SECONDS:
                problems.append(f"{market.symbol}: the reference price has not moved for {still:.0f} s")
        if market.state == Market.RUNNING and (market.last_tick_at is None or now - market.last_tick_at > TICK_FRESH):
            problems.append(f"{market.symbol}: the market-making bot has not ticked in the last 30 s")
    stale_alerts = Alert.objects.filter(kind__in=[Alert.REFERENCE_STALE, Alert.VENUE_ERROR]).exclude(
        state=Alert.RESOLVED
    ).count()
    if stale_alerts:
        problems.append(f"{stale_alerts} reference or venue alert(s) not resolved")
    url = reverse("alerts")
    if not markets:
        return Item("feeds", title, CheckItem.NOT_CHECKED, "No enabled market.")
    if problems:
        return Item("feeds", title, CheckItem.FAIL, "\n".join(problems), url, "See the alerts")
    return Item("feeds", title, CheckItem.PASS, "Every book, reference and tick is current.", url, "See the alerts")


def workers_alive(now) -> Item:
    title = "Workers alive"
    silence = worker_silence(now)
    url = reverse("alerts")
    if silence is None:
        return Item("workers", title, CheckItem.FAIL, "No worker has ever run the heartbeat task: is Celery "
                    "beat running, and a worker?", url, "See the alerts")
    if silence > settings.WORKER_SILENT_SECONDS:
        return Item("workers", title, CheckItem.FAIL, f"The last heartbeat is {silence:.0f} s old: no worker "
                    "is taking tasks. Start one: celery -A ballast worker", url, "See the alerts")
    return Item("workers", title, CheckItem.PASS, f"A worker ran the heartbeat {silence:.0f} s ago.")


def run_items(now=None) -> list[Item]:
    now = now or timezone.now()
    markets = _markets()
    return [
        balances_reconcile(markets),
        hedges_done(markets, now),
        within_band_overnight(markets, now),
        open_proposals(),
        feeds_fresh(markets, now),
        workers_alive(now),
    ]


def _context(request) -> dict:
    runs = MorningCheck.objects.select_related("run_by").prefetch_related("items")[:RUNS_SHOWN]
    return {"latest": runs[0] if runs else None, "runs": runs, "can_run": has_role(request.user, OPERATOR)}


@require_GET
@login_required
def morning_check(request):
    check_workers()
    context = _context(request)
    if request.htmx:
        return render(request, "partials/morning_check_run.html", context)
    return render(request, "morning_check.html", context)


@require_POST
@login_required
@role_required(OPERATOR)
def run_morning_check(request):
    items = run_items()
    failed = [item.title for item in items if item.result == CheckItem.FAIL]
    with transaction.atomic():
        run = MorningCheck.objects.create(run_by=request.user, passed=not failed)
        CheckItem.objects.bulk_create(
            CheckItem(check_run=run, position=i, key=item.key, title=item.title, result=item.result,
                      detail=item.detail, action_url=item.action_url, action_label=item.action_label)
            for i, item in enumerate(items)
        )
        record("morning check", user=request.user, subject=f"morning check {run.pk}",
               reason="passed" if not failed else "failed: " + ", ".join(failed))
    if request.htmx:
        return render(request, "partials/morning_check_run.html", _context(request))
    return redirect("morning-check")
