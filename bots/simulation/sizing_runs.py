"""Liquidity sizing runs for operators: what a market suggests as inputs (its flow estimated from
recorded fills, its bots' settings, its accounts' balances and band floors), starting a run, and
running it in a worker with its progress pushed to the sizing page.

The Monte Carlo itself is bots.engine.simulation.sizing (NumPy floats inside the simulation only); this
module turns the stored Decimals into its inputs and its answer back into Decimals.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.engine.hedging.pnl import HedgeFigures, summarize
from bots.engine.rules import BPS, ZERO
from bots.engine.simulation.flow_estimate import FillRecord, daily_volatility, estimate_flow
from bots.engine.simulation.sizing import Flow, Pools, histogram, required_pools, simulate, summary
from bots.market_making.quoter import market_rules
from bots.models import Fill, HealthSample, Hedge, InventoryBand, Market, SizingRun
from bots.platform import events
from bots.treasury.balances import latest_balances
from bots.venues import ccxt_errors as ccxt
from bots.venues import venue_for

log = logging.getLogger(__name__)

FLOW_WINDOW = timedelta(hours=24)
MAX_VOLATILITY_SAMPLES = 2_000  # thinning a random walk's samples keeps its variance per second
MIN_PATHS, MAX_PATHS = 10, 5_000
MIN_HORIZON_DAYS, MAX_HORIZON_DAYS = Decimal("0.01"), Decimal(60)
PUSH_EVERY_SECONDS = 0.2  # at most 5 progress messages a second: one group_send costs ~5 ms


class SizingError(Exception):
    """A run that cannot start, with the message to show."""


def step_seconds(horizon_days: Decimal) -> int:
    """One-second steps up to a day; longer horizons take steps of one second per day of
    horizon, so a path never has more than 86,400 steps (paths x steps stays under 432 M)."""
    return 1 if horizon_days <= 1 else math.ceil(horizon_days)


# --- what a market suggests ------------------------------------------------------------------


@dataclass
class Suggestion:
    """The form's starting values for one market, and where each came from."""

    initial: dict[str, Decimal] = field(default_factory=dict)
    flow_ok: bool = False
    flow_note: str = ""
    volatility_note: str = ""
    settings_note: str = ""
    balances_note: str = ""


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)


def shown(value: Decimal) -> Decimal:
    """A suggested figure as the form shows it: 6 significant digits (an estimate's 28 digits
    would claim a precision it does not have, and overflow the stored 18 places)."""
    if value == 0:
        return ZERO
    return value.quantize(Decimal(1).scaleb(value.adjusted() - 5), ROUND_HALF_EVEN).normalize()


def market_flow(market: Market, now=None):
    """The market's user flow over FLOW_WINDOW, from the MM bot's recorded fills."""
    now = now or timezone.now()
    start = now - FLOW_WINDOW
    rows = Fill.objects.filter(market=market, timestamp__gte=_ms(start)).values_list(
        "timestamp", "side", "amount", "price"
    )
    return estimate_flow([FillRecord(*row) for row in rows], _ms(start), _ms(now))


def flow_initial(estimate) -> dict[str, Decimal]:
    if not estimate.ok:
        return {}
    return {
        "trades_per_minute": shown(estimate.trades_per_minute),
        "mean_size": shown(estimate.mean_size),
        "buy_share": shown(estimate.buy_share),
    }


def suggest(market: Market, now=None) -> Suggestion:
    now = now or timezone.now()
    start = now - FLOW_WINDOW
    s = Suggestion()

    estimate = market_flow(market, now)
    s.flow_ok, s.flow_note = estimate.ok, estimate.message
    s.initial |= flow_initial(estimate)

    # Volatility from the health rounds' reference mid: a sample every few seconds kept for
    # days, where the market's own reference samples span only the quoting volatility window
    # (minutes), too short for a daily figure. Fill prices bounce between bid and ask and would
    # overstate it.
    samples = [
        (_ms(at), mid)
        for at, mid in HealthSample.objects.filter(
            market=market, taken_at__gte=start, reference_mid__isnull=False
        )
        .order_by("taken_at")
        .values_list("taken_at", "reference_mid")
    ]
    source = "health samples of the reference mid"
    if len(samples) < 2:
        samples = [(int(t), Decimal(p)) for t, p in market.reference_samples or []]
        source = "the quoting window's reference samples"
    thinned = samples[:: max(1, len(samples) // MAX_VOLATILITY_SAMPLES)]
    vol = daily_volatility(thinned)
    if vol is None:
        s.volatility_note = "Not enough reference prices for the volatility: enter it by hand."
    else:
        hours = (thinned[-1][0] - thinned[0][0]) / 3_600_000
        s.initial["daily_volatility_pct"] = shown(vol * 100)
        s.volatility_note = f"Volatility from {len(thinned)} {source} over {hours:.1f} hours."

    price = (
        HealthSample.objects.filter(market=market, reference_mid__isnull=False)
        .values_list("reference_mid", flat=True)
        .first()  # newest first
        or market.reference_price
        or Fill.objects.filter(market=market)
        .order_by("-timestamp")
        .values_list("price", flat=True)
        .first()
    )
    if price:
        s.initial["price"] = shown(price)

    settings = getattr(market, "quote_settings", None)
    notes = []
    if settings is not None:
        s.initial["mm_half_spread_bps"] = shown(
            (settings.bid_spread_bps + settings.ask_spread_bps) / 2
        )
        half = (settings.bid_spread_bps + settings.ask_spread_bps) / 2
        earned = hedged_edge(market)
        try:
            if earned is not None:
                # What the hedges really cost: the half spread less what the fills kept, net.
                count, edge_bps = earned
                s.initial["hedge_cost_bps"] = shown(half - edge_bps)
                notes.append(
                    f"Half spread from the quote settings' bid and ask spreads; hedge cost = that "
                    f"half spread less the {figure(edge_bps, 4)} bps the {count} fills hedged over "
                    f"the last 24 hours kept after both venues' fees."
                )
            else:

                taker = market_rules(venue_for(market.hedge_account), market.symbol).taker_fee
                s.initial["hedge_cost_bps"] = shown(taker * BPS + settings.hedge_slippage_bps)
                notes.append(
                    f"Half spread from the quote settings' bid and ask spreads; no hedged fills "
                    f"yet, so hedge cost = the hedge venue's taker fee ({figure(taker * BPS, 6)} "
                    f"bps) + the hedge slippage ({figure(settings.hedge_slippage_bps, 6)} bps), "
                    f"the most a hedge may pay past the book: a cautious figure for the edge."
                )
        except ccxt.BaseError as exc:
            notes.append(
                f"The hedge venue's taker fee could not be read ({type(exc).__name__}): "
                "enter the hedge cost by hand."
            )
    s.settings_note = " ".join(notes)

    accounts = [market.mm_account, market.hedge_account]
    assets = [market.base, market.quote]
    balances = latest_balances(accounts, assets)
    missing = []
    for prefix, account in (("mm", market.mm_account), ("hedge", market.hedge_account)):
        for suffix, asset in (("base", market.base), ("quote", market.quote)):
            row = balances.get((account.pk, asset))
            if row is None:
                missing.append(f"{account.name} {asset}")
            else:
                # To the cent in quote, a hundred-millionth in base: what a person would type.
                places = Decimal("0.01") if suffix == "quote" else Decimal("0.00000001")
                s.initial[f"{prefix}_{suffix}"] = row.total.quantize(places).normalize()
    s.balances_note = (
        "Current balances, as last read."
        if not missing
        else f"No balance recorded for {', '.join(missing)}: enter it by hand."
    )
    s.initial |= {k: shown(v) for k, v in _floors(market, s.initial, price).items()}
    return s


def _floors(market: Market, balances: dict, price) -> dict:
    """The larger of the two accounts' band minimums per asset (the simulation has one floor
    per asset); a share band's minimum is its share of the pair's value at `price`."""
    floors = {"floor_base": ZERO, "floor_quote": ZERO}
    accounts = [market.mm_account_id, market.hedge_account_id]
    bands = InventoryBand.objects.filter(
        account_id__in=accounts, asset__in=[market.base, market.quote]
    )
    pair_value = None
    if price:
        pair_value = sum(
            (
                balances.get(f"{p}_base", ZERO) * price + balances.get(f"{p}_quote", ZERO)
                for p in ("mm", "hedge")
            ),
            ZERO,
        )
    for band in bands:
        key = "floor_base" if band.asset == market.base else "floor_quote"
        minimum = band.minimum
        if band.unit == InventoryBand.SHARE:
            if pair_value is None:
                continue
            minimum = band.minimum * pair_value / (price if key == "floor_base" else 1)
        floors[key] = max(floors[key], minimum)
    return floors


# --- starting a run --------------------------------------------------------------------------


def start(market: Market, user, values: dict, flow_source: str = "") -> SizingRun:
    """Record the run and queue it after the commit; SizingError while one is under way."""
    values = dict(values)
    if values.get("seed") is None:
        values["seed"] = secrets.randbelow(2**31)
    try:
        with transaction.atomic():
            run = SizingRun.objects.create(
                market=market,
                user=user,
                actor=user.get_username(),
                flow_source=flow_source[:300],
                step_seconds=step_seconds(values["horizon_days"]),
                **values,
            )
    except IntegrityError:
        under_way = SizingRun.objects.filter(market=market, state__in=SizingRun.ACTIVE).first()
        number = f" (#{under_way.pk})" if under_way else ""
        raise SizingError(
            f"A sizing run of {market.symbol} is already under way{number}: wait for it to finish."
        ) from None
    events.sizing_run_queued.emit_on_commit(run_id=run.pk)
    return run


# --- running it ------------------------------------------------------------------------------


def inputs(run: SizingRun) -> tuple[Flow, Pools]:
    """The simulation's float inputs from the stored Decimals."""
    flow = Flow(
        trades_per_minute=float(run.trades_per_minute),
        mean_size=float(run.mean_size),
        buy_share=float(run.buy_share),
        price=float(run.price),
        daily_volatility=float(run.daily_volatility_pct) / 100,
        mm_half_spread_bps=float(run.mm_half_spread_bps),
        hedge_cost_bps=float(run.hedge_cost_bps),
    )
    pools = Pools(
        mm_base=float(run.mm_base),
        mm_quote=float(run.mm_quote),
        hedge_base=float(run.hedge_base),
        hedge_quote=float(run.hedge_quote),
        floor_base=float(run.floor_base),
        floor_quote=float(run.floor_quote),
    )
    return flow, pools


def simulate_run(run: SizingRun, progress=None):
    flow, pools = inputs(run)
    return simulate(
        flow,
        pools,
        days=float(run.horizon_days),
        paths=run.paths,
        seed=run.seed,
        dt=float(run.step_seconds),
        progress=progress,
    )


def as_decimal(value: float | None) -> Decimal | None:
    """A simulation figure as stored: 12 significant digits, which SQLite's numeric columns
    (15 digits) and PostgreSQL's keep exactly; a Monte Carlo means far fewer."""
    if value is None:
        return None
    exact = Decimal(repr(float(value)))
    if exact == 0:
        return ZERO
    return exact.quantize(Decimal(1).scaleb(exact.adjusted() - 11), ROUND_HALF_EVEN)


def figures(run: SizingRun, result) -> dict:
    """The answer's columns and histograms, from a simulation result of `run`'s inputs."""
    _, pools = inputs(run)
    need = required_pools(result, pools, float(run.confidence_pct) / 100)
    facts = summary(result)
    return {
        "need_mm_base": as_decimal(need.mm_base),
        "need_mm_quote": as_decimal(need.mm_quote),
        "need_hedge_base": as_decimal(need.hedge_base),
        "need_hedge_quote": as_decimal(need.hedge_quote),
        "share_dry": as_decimal(facts["share_dry"]),
        "median_days_to_dry": as_decimal(facts["median_days_to_dry"]),
        "p05_days_to_dry": as_decimal(facts["p05_days_to_dry"]),
        "edge_mean": as_decimal(facts["edge_mean"]),
        "edge_p05": as_decimal(facts["edge_p05"]),
        "edge_p95": as_decimal(facts["edge_p95"]),
        "histograms": {
            "days_to_dry": histogram(result.days_to_dry, low=0, high=float(run.horizon_days)),
            "edge": histogram(result.edge),
        },
    }


def publish(run: SizingRun) -> None:
    """Tell the sizing pages where the run stands."""
    events.sizing_run_progressed.emit(
        run_id=run.pk,
        status={
            "run": run.pk,
            "market": run.market.slug if run.market_id else None,
            "state": run.state,
            "progress": round(run.progress, 4),
            "error": run.error,
        },
    )


def run(run_id: int) -> str:
    """Run one queued run (or one whose worker died mid-run: the same seed gives the same
    answer). The row's progress and the page's bar move at most every PUSH_EVERY_SECONDS."""
    claimed = SizingRun.objects.filter(pk=run_id, state__in=SizingRun.ACTIVE).update(
        state=SizingRun.RUNNING, started_at=timezone.now(), progress=0
    )
    if not claimed:
        return "skipped: not queued"
    row = SizingRun.objects.select_related("market").get(pk=run_id)
    publish(row)
    last = [time.monotonic()]

    def progress(share: float) -> None:
        now = time.monotonic()
        if now - last[0] < PUSH_EVERY_SECONDS or share >= 1:
            return  # the final state is pushed once the answer is saved
        last[0] = now
        row.progress = share
        SizingRun.objects.filter(pk=run_id).update(progress=share)
        publish(row)

    try:
        result = simulate_run(row, progress)
        answer = figures(row, result)
    except Exception as exc:  # noqa: BLE001 - any failure must end the run, not leave it running
        log.exception("sizing run %s failed", run_id)
        row.state, row.error = SizingRun.FAILED, f"{type(exc).__name__}: {exc}"[:500]
        row.finished_at = timezone.now()
        row.save(update_fields=["state", "error", "finished_at"])
        publish(row)
        return "failed"
    for name, value in answer.items():
        setattr(row, name, value)
    row.state, row.progress, row.finished_at = SizingRun.DONE, 1.0, timezone.now()
    row.save()
    publish(row)
    return "done"


# --- the answer in words ---------------------------------------------------------------------


def figure(value: Decimal, digits: int = 3, up: bool = False) -> str:
    """`value` to `digits` significant digits (rounded up for a requirement: a rounded-down
    one would fall short), with thousands separators and no trailing zeros."""
    if value == 0:
        return "0"
    exponent = value.adjusted() - digits + 1
    rounded = value.quantize(Decimal(1).scaleb(exponent), ROUND_CEILING if up else ROUND_HALF_EVEN)
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def days_text(value: Decimal) -> str:
    text = figure(value, 2)
    return f"{text} day" if text == "1" else f"{text} days"


QUESTION_FIELDS = (
    "trades_per_minute",
    "mean_size",
    "buy_share",
    "price",
    "daily_volatility_pct",
    "mm_half_spread_bps",
    "hedge_cost_bps",
    "mm_base",
    "mm_quote",
    "hedge_base",
    "hedge_quote",
    "floor_base",
    "floor_quote",
    "horizon_days",
    "confidence_pct",
    "paths",
    "seed",
)


def question(run: SizingRun) -> dict:
    """The inputs of `run`, as the form takes them (to ask it again, changed)."""
    return {name: getattr(run, name) for name in QUESTION_FIELDS}


def describe(run: SizingRun) -> str:
    """The inputs of `run` in one line, under its answer."""
    base = run.market.base
    orders = figure(run.trades_per_minute, 4)
    plural = "" if orders == "1" else "s"
    return (
        f"{run.flow_source} {run.paths:,} paths in {run.step_seconds} s steps, seed {run.seed}. "
        f"{orders} user order{plural} a minute of {figure(run.mean_size, 4)} {base} on average, "
        f"{figure(run.buy_share * 100, 3)}% buying; volatility "
        f"{figure(run.daily_volatility_pct, 3)}% a day; half spread "
        f"{figure(run.mm_half_spread_bps, 4)} bps, hedge cost {figure(run.hedge_cost_bps, 4)} bps; "
        f"floors {figure(run.floor_base, 4)} {base} and {figure(run.floor_quote, 4)} "
        f"{run.market.quote}."
    )


def answer(run: SizingRun) -> list[str]:
    """The run's answer as sentences an operator reads."""
    if run.state != SizingRun.DONE:
        return []
    base, quote = run.market.base, run.market.quote
    horizon = days_text(run.horizon_days)
    confidence = figure(run.confidence_pct, 3)
    sentences = [
        f"To rebalance at most once every {horizon} with {confidence}% confidence, the MM account "
        f"needs {figure(run.need_mm_base, up=True)} {base} and {figure(run.need_mm_quote, up=True)} "
        f"{quote} and the hedge account {figure(run.need_hedge_base, up=True)} {base} and "
        f"{figure(run.need_hedge_quote, up=True)} {quote}; they hold "
        f"{figure(run.mm_base, 4)} {base} and {figure(run.mm_quote, 4)} {quote} (MM) and "
        f"{figure(run.hedge_base, 4)} {base} and {figure(run.hedge_quote, 4)} {quote} (hedge) now."
    ]
    share = run.share_dry * 100
    if run.share_dry == 0:
        lasting = f"With these balances no path needed a rebalance within {horizon}."
    else:
        lasting = (
            f"With these balances {figure(share, 2)}% of paths needed a rebalance within {horizon}"
        )
        if run.median_days_to_dry is not None:
            lasting += f"; the median path after {days_text(run.median_days_to_dry)}"
        if run.p05_days_to_dry is not None:
            lasting += f"; 5% of paths within {days_text(run.p05_days_to_dry)}"
        lasting += "."
    sentences.append(lasting)
    sentences.append(
        f"Edge earned until the first rebalance (or over {horizon}): mean "
        f"{figure(run.edge_mean, 3)} {quote}, 90% of paths between {figure(run.edge_p05, 3)} and "
        f"{figure(run.edge_p95, 3)} {quote}."
    )
    return sentences


def hedged_edge(market: Market, window: timedelta = FLOW_WINDOW) -> tuple[int, Decimal] | None:
    """(count, bps) the market's hedged fills kept over the window, net of both venues' fees
    and weighted by value (the hedging card's figure, bots.engine.hedging.pnl.summarize); None without
    any."""
    rows = Hedge.objects.filter(
        fill__market=market, done_at__gte=timezone.now() - window, pnl_quote__isnull=False
    ).values_list("pnl_quote", "fill__price", "filled", "state")
    summary = summarize(HedgeFigures(pnl, price * filled, None, state) for pnl, price, filled, state in rows)
    if summary.pnl_bps is None:
        return None
    return summary.hedges, summary.pnl_bps
