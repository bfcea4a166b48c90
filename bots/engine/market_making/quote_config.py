"""The market maker's parameters: each one's meaning, unit and bounds, and the checks across them.

One table (PARAMS) says everything an operator or a form needs to know about a parameter; the
model's columns and the settings form are built from it, and docs/market-making.md's table is
checked against it (tests/project/test_docs_follow_the_code.py). QuoteConfig is the validated
value the engine quotes from. Checks that involve more than one parameter are small named
functions in CROSS_FIELD_CHECKS, each returning a message or None (freqtrade's config validation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation

from bots.engine.figures import whole_number
from bots.engine.rules import BPS

SPREAD = "spread"
AVELLANEDA = "avellaneda"
MIRROR = "mirror"
GLFT = "glft"
MODES = (SPREAD, AVELLANEDA, MIRROR, GLFT)

QUOTING = "Quoting"
BUDGET = "Budget"
FLOOR = "Hedge floor and mirror"
REFRESH = "Refresh discipline"
INVENTORY = "Inventory"
VOLATILITY = "Avellaneda-Stoikov"
GUEANT = "GLFT"
PROTECTION = "Protection"
GROUPS = (QUOTING, BUDGET, FLOOR, REFRESH, INVENTORY, VOLATILITY, GUEANT, PROTECTION)

D = Decimal


@dataclass(frozen=True)
class Param:
    name: str
    kind: type  # Decimal, int, bool or str
    default: object
    label: str
    help: str
    group: str
    unit: str = ""
    minimum: Decimal | int | None = None
    maximum: Decimal | int | None = None
    choices: tuple[str, ...] = ()
    off_at_zero: bool = False  # 0 switches the behaviour off


def _p(name, kind, default, label, group, help, unit="", lo=None, hi=None, **extra) -> Param:
    return Param(name, kind, default, label, help, group, unit, lo, hi, **extra)


PARAMS: tuple[Param, ...] = (
    # --- quoting ---------------------------------------------------------------------------
    _p("mode", str, SPREAD, "Pricing mode", QUOTING,
       "spread: fixed spreads around the reference; avellaneda: Avellaneda-Stoikov reservation "
       "price and spread; mirror: the hedge venue's depth, scaled and marked up by the floor; glft: "
       "Gueant-Lehalle-Fernandez-Tapia depths with an inventory limit",
       choices=MODES),
    _p("bid_spread_bps", D, D("15"), "Bid spread", QUOTING,
       "Distance of the best bid below the reference price", "bps", D("0"), D("5000")),
    _p("ask_spread_bps", D, D("15"), "Ask spread", QUOTING,
       "Distance of the best ask above the reference price", "bps", D("0"), D("5000")),
    _p("levels", int, 5, "Order levels", QUOTING, "Orders on each side of the book", "", 1, 50),
    _p("level_spacing_bps", D, D("5"), "Level spacing", QUOTING,
       "Distance between consecutive levels of a side", "bps", D("0"), D("1000")),
    _p("level_amount", D, D("0.05"), "Level size", QUOTING,
       "Size of the level nearest the reference", "base", D("0.00000001"), D("1000000")),
    _p("amount_growth", D, D("0.5"), "Size step", QUOTING,
       "Each level further out is this fraction of the first level larger (negative: smaller)",
       "×", D("-0.9"), D("10")),
    _p("post_only", bool, True, "Post-only", QUOTING,
       "Send orders that the venue refuses rather than let trade on arrival"),
    # --- budget ----------------------------------------------------------------------------
    _p("ask_budget_base", D, D("0"), "Ask budget", BUDGET,
       "Most base the asks together may commit", "base", D("0"), D("1000000000"), off_at_zero=True),
    _p("bid_budget_quote", D, D("0"), "Bid budget", BUDGET,
       "Most quote the bids together may commit", "quote", D("0"), D("1000000000000"),
       off_at_zero=True),
    _p("reserve_base", D, D("0"), "Base reserve", BUDGET,
       "Base left uncommitted in the MM account whatever the budget", "base", D("0"),
       D("1000000000")),
    _p("reserve_quote", D, D("0"), "Quote reserve", BUDGET,
       "Quote left uncommitted in the MM account whatever the budget", "quote", D("0"),
       D("1000000000000")),
    # --- hedge floor and mirror ------------------------------------------------------------
    _p("hedge_buffer_bps", D, D("2"), "Floor buffer", FLOOR,
       "Edge every level keeps after hedging it and paying both venues' fees", "bps", D("0"),
       D("1000")),
    # At most bots.engine.hedging.hedge_order's MAX_SLIPPAGE_BPS: the hedger refuses more.
    _p("hedge_slippage_bps", D, D("20"), "Hedge slippage", FLOOR,
       "A hedge never trades further than this past the hedge book's price", "bps", D("0"),
       D("500")),
    _p("mirror_fraction", D, D("0.5"), "Mirror fraction", FLOOR,
       "Mirror mode: share of each hedge book level's size shown on the own book", "×",
       D("0.01"), D("1")),
    # --- refresh discipline ----------------------------------------------------------------
    _p("order_refresh_seconds", D, D("10"), "Order refresh time", REFRESH,
       "An order that drifted from its target is replaced only once it has rested this long",
       "s", D("0"), D("3600")),
    _p("refresh_tolerance_bps", D, D("3"), "Refresh tolerance", REFRESH,
       "Keep an order whose price is this close to its target", "bps", D("0"), D("1000")),
    _p("max_order_age_seconds", D, D("0"), "Max order age", REFRESH,
       "Replace an order this old even when it is on target", "s", D("0"), D("86400"),
       off_at_zero=True),
    _p("minimum_spread_bps", D, D("0"), "Minimum spread", REFRESH,
       "Cancel an order the reference has moved closer than this", "bps", D("0"), D("1000"),
       off_at_zero=True),
    _p("filled_order_delay_seconds", D, D("5"), "Filled-order delay", REFRESH,
       "After a fill, wait this long before placing new orders on that side", "s", D("0"),
       D("3600")),
    _p("price_ceiling", D, D("0"), "Price ceiling", REFRESH,
       "Above this reference price only sell", "quote", D("0"), D("1000000000000"),
       off_at_zero=True),
    _p("price_floor", D, D("0"), "Price floor", REFRESH,
       "Below this reference price only buy", "quote", D("0"), D("1000000000000"),
       off_at_zero=True),
    # --- inventory -------------------------------------------------------------------------
    _p("inventory_skew", bool, False, "Inventory skew", INVENTORY,
       "Skew prices and sizes toward the target base share"),
    _p("target_base_pct", D, D("50"), "Target base share", INVENTORY,
       "Share of the MM account's value to hold in the base asset", "%", D("0"), D("100")),
    _p("inventory_range_multiplier", D, D("1"), "Inventory range", INVENTORY,
       "Skew is full when the base held is this many sides' worth of levels from the target",
       "×", D("0.1"), D("100")),
    _p("skew_price_bps", D, D("5"), "Skew price shift", INVENTORY,
       "How far both quotes move at full skew (away from the side that makes it worse)", "bps",
       D("0"), D("1000")),
    _p("position_target_base", D, D("0"), "Target position", INVENTORY,
       "Base the MM account means to hold", "base", D("0"), D("1000000000")),
    _p("position_band_base", D, D("0"), "Position band", INVENTORY,
       "Beyond this far from the target position, the side that makes it worse stops quoting",
       "base", D("0"), D("1000000000"), off_at_zero=True),
    # --- Avellaneda-Stoikov ----------------------------------------------------------------
    _p("as_gamma", D, D("0.02"), "Risk aversion γ", VOLATILITY,
       "How strongly inventory moves the reservation price (prices in bps of the reference, "
       "inventory in sides' worth of levels)", "", D("0.0001"), D("100")),
    _p("as_kappa", D, D("0.1"), "Order book liquidity k", VOLATILITY,
       "Arrival intensity decay A·exp(-k·δ), δ in bps: larger k, tighter quotes", "",
       D("0.0001"), D("100")),
    _p("as_horizon_seconds", D, D("60"), "Horizon T-t", VOLATILITY,
       "Time horizon of the inventory risk", "s", D("1"), D("86400")),
    _p("volatility_window_seconds", D, D("300"), "Volatility window", VOLATILITY,
       "Reference prices this recent estimate sigma", "s", D("10"), D("3600")),
    # --- GLFT (bots.engine.market_making.glft) ----------------------------------------------
    # Prices in bps of the reference, sigma in bps per sqrt(second) (as Avellaneda-Stoikov's),
    # inventory q in level sizes: the base held beyond the target over `level_amount`.
    _p("glft_a", D, D("1"), "Arrival rate A", GUEANT,
       "Market orders a second reaching a quote at the reference: intensity A·exp(-k·δ)", "/s",
       D("0.0001"), D("100000")),
    _p("glft_k", D, D("0.1"), "Arrival decay k", GUEANT,
       "Decay of the arrival intensity with the depth δ in bps: larger k, tighter quotes", "",
       D("0.0001"), D("100")),
    _p("glft_gamma", D, D("0.02"), "Risk aversion γ (GLFT)", GUEANT,
       "How strongly inventory skews and widens the quotes (prices in bps, inventory in level "
       "sizes)", "", D("0.0001"), D("100")),
    _p("glft_xi", D, D("0"), "Penalty ξ", GUEANT,
       "The objective's inventory penalty; 0 takes γ (the paper's first model)", "", D("0"),
       D("100")),
    _p("glft_delta", D, D("1"), "Fill size Δ", GUEANT,
       "Size of one fill in level sizes (1: a fill takes one level, as hftbacktest's Δ = 1)", "",
       D("0.01"), D("1000")),
    _p("glft_q_limit", D, D("10"), "Inventory limit Q", GUEANT,
       "The side a fill of Δ would take beyond ±Q level sizes from the target stops quoting", "",
       D("0"), D("1000000"), off_at_zero=True),
    # --- protection ------------------------------------------------------------------------
    _p("breaker_move_pct", D, D("2"), "Price breaker", PROTECTION,
       "A reference move larger than this between ticks cancels everything and pauses", "%",
       D("0"), D("50"), off_at_zero=True),
    _p("breaker_pause_seconds", D, D("30"), "Breaker pause", PROTECTION,
       "How long the breaker keeps the market from quoting", "s", D("1"), D("3600")),
    _p("stale_after_seconds", D, D("5"), "Stale reference", PROTECTION,
       "No quotes while the hedge book is older than this", "s", D("0.5"), D("600")),
    _p("max_unhedged_base", D, D("0"), "Exposure limit", PROTECTION,
       "Above this unhedged base, the side that would add to it stops quoting", "base", D("0"),
       D("1000000000"), off_at_zero=True),
    _p("hedge_pending_seconds", D, D("10"), "Pending hedge limit", PROTECTION,
       "No new orders on a side while one of its hedges has been pending this long", "s",
       D("1"), D("3600")),
    _p("max_trades_per_minute", int, 0, "Trades per minute", PROTECTION,
       "At this many fills in the last minute the market stops quoting until it slows", "",
       0, 600, off_at_zero=True),
)
PARAMS_BY_NAME = {p.name: p for p in PARAMS}


@dataclass(frozen=True)
class QuoteConfig:
    mode: str
    bid_spread_bps: Decimal
    ask_spread_bps: Decimal
    levels: int
    level_spacing_bps: Decimal
    level_amount: Decimal
    amount_growth: Decimal
    post_only: bool
    ask_budget_base: Decimal
    bid_budget_quote: Decimal
    reserve_base: Decimal
    reserve_quote: Decimal
    hedge_buffer_bps: Decimal
    hedge_slippage_bps: Decimal
    mirror_fraction: Decimal
    order_refresh_seconds: Decimal
    refresh_tolerance_bps: Decimal
    max_order_age_seconds: Decimal
    minimum_spread_bps: Decimal
    filled_order_delay_seconds: Decimal
    price_ceiling: Decimal
    price_floor: Decimal
    inventory_skew: bool
    target_base_pct: Decimal
    inventory_range_multiplier: Decimal
    skew_price_bps: Decimal
    position_target_base: Decimal
    position_band_base: Decimal
    as_gamma: Decimal
    as_kappa: Decimal
    as_horizon_seconds: Decimal
    volatility_window_seconds: Decimal
    glft_a: Decimal
    glft_k: Decimal
    glft_gamma: Decimal
    glft_xi: Decimal
    glft_delta: Decimal
    glft_q_limit: Decimal
    breaker_move_pct: Decimal
    breaker_pause_seconds: Decimal
    stale_after_seconds: Decimal
    max_unhedged_base: Decimal
    hedge_pending_seconds: Decimal
    max_trades_per_minute: int

    def level_amounts(self) -> list[Decimal]:
        """The configured size of each level, nearest the reference first (before skew)."""
        return [self.level_amount * (1 + self.amount_growth * i) for i in range(self.levels)]

    def replace(self, **changes) -> QuoteConfig:
        return parse({**as_dict(self), **changes})


def as_dict(config: QuoteConfig) -> dict[str, object]:
    return {f.name: getattr(config, f.name) for f in fields(config)}


DEFAULTS_BY_NAME = {p.name: p.default for p in PARAMS}


class InvalidSettings(ValueError):
    """Settings that cannot be quoted from; `problems` maps a parameter ("" for several) to why."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class CheckContext:
    """What the cross-field checks may know beyond the settings: the venues' fees and price.

    Unknown values (None) skip the checks that need them.
    """

    hedge_taker_fee: Decimal | None = None  # the cheapest hedge venue's, as a fraction
    own_maker_fee: Decimal | None = None
    reference_price: Decimal | None = None


def _coerce(param: Param, value: object) -> object:
    if param.kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "on", "off", "1", "0"):
            return value.lower() in ("true", "on", "1")
        raise ValueError("must be true or false")
    if param.kind is str:
        if value not in param.choices:
            raise ValueError(f"must be one of {', '.join(param.choices)}")
        return value
    if param.kind is int:
        try:
            if isinstance(value, bool):
                raise ValueError
            return whole_number(str(value), signed=True)  # "²" or "٣" are no levels
        except ValueError:
            raise ValueError("must be a whole number") from None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError("must be a number") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number


def _bound_problem(param: Param, value) -> str | None:
    if param.minimum is not None and value < param.minimum:
        return f"{param.label} must be at least {param.minimum}{_unit(param)}"
    if param.maximum is not None and value > param.maximum:
        return f"{param.label} must be at most {param.maximum}{_unit(param)}"
    return None


def _unit(param: Param) -> str:
    if param.unit in ("", "×"):
        return ""
    return param.unit if param.unit == "%" else f" {param.unit}"


def coerce_all(params: tuple[Param, ...], values: Mapping[str, object]) -> dict[str, object]:
    """Every parameter of `params` from raw values, coerced and within its bounds, or
    InvalidSettings naming each one refused. Other tables of parameters use it too
    (bots.engine.interventions.settings)."""
    problems: dict[str, str] = {}
    clean: dict[str, object] = {}
    for param in params:
        if param.name not in values or values[param.name] in (None, ""):
            problems[param.name] = f"{param.label} is required"
            continue
        try:
            clean[param.name] = _coerce(param, values[param.name])
        except ValueError as exc:
            problems[param.name] = f"{param.label} {exc}"
            continue
        if param.kind in (int, Decimal) and (problem := _bound_problem(param, clean[param.name])):
            problems[param.name] = problem
    if problems:
        raise InvalidSettings(problems)
    return clean


def parse(values: Mapping[str, object], context: CheckContext | None = None) -> QuoteConfig:
    """A QuoteConfig from raw values (form strings, model attributes), or InvalidSettings.

    Every parameter must be present; each is coerced, bounds-checked, then the whole is checked
    across fields.
    """
    config = QuoteConfig(**coerce_all(PARAMS, values))
    cross = cross_field_problems(config, context or CheckContext())
    if cross:
        raise InvalidSettings(cross)
    return config


# --- cross-field checks ----------------------------------------------------------------------
# Each returns (the parameter to blame, the message) or None.

Problem = tuple[str, str] | None


def levels_stay_positive(c: QuoteConfig, ctx: CheckContext) -> Problem:
    last = c.level_amount * (1 + c.amount_growth * (c.levels - 1))
    if last <= 0:
        return "amount_growth", (
            f"With a size step of {c.amount_growth}, level {c.levels} would have size {last}: "
            "shrink more slowly or quote fewer levels"
        )
    return None


def ceiling_above_floor(c: QuoteConfig, ctx: CheckContext) -> Problem:
    if c.price_ceiling > 0 and c.price_floor > 0 and c.price_ceiling <= c.price_floor:
        return "price_ceiling", (
            f"The price ceiling ({c.price_ceiling}) must be above the price floor "
            f"({c.price_floor}), or the market would quote neither side between them"
        )
    return None


def max_age_not_below_refresh(c: QuoteConfig, ctx: CheckContext) -> Problem:
    if 0 < c.max_order_age_seconds < c.order_refresh_seconds:
        return "max_order_age_seconds", (
            f"Max order age ({c.max_order_age_seconds} s) is shorter than the order refresh time "
            f"({c.order_refresh_seconds} s): raise it, or set it to 0 to turn it off"
        )
    return None


def minimum_spread_below_spreads(c: QuoteConfig, ctx: CheckContext) -> Problem:
    tightest = min(c.bid_spread_bps, c.ask_spread_bps)
    if c.mode == SPREAD and c.minimum_spread_bps > 0 and c.minimum_spread_bps >= tightest:
        return "minimum_spread_bps", (
            f"Minimum spread ({c.minimum_spread_bps} bps) must be below both spreads (the "
            f"tightest is {tightest} bps), or every new order would be cancelled at once"
        )
    return None


def hedge_floor_bps(ctx: CheckContext, buffer_bps: Decimal) -> Decimal | None:
    """The narrowest spread that still earns after hedging: both fees and the buffer, in bps;
    None while a venue's fee is unknown."""
    if ctx.hedge_taker_fee is None or ctx.own_maker_fee is None:
        return None
    return (ctx.hedge_taker_fee + ctx.own_maker_fee) * BPS + buffer_bps


def spreads_clear_the_floor(c: QuoteConfig, ctx: CheckContext) -> Problem:
    floor = hedge_floor_bps(ctx, c.hedge_buffer_bps)
    if c.mode != SPREAD or floor is None:
        return None
    for name, spread in (("ask_spread_bps", c.ask_spread_bps), ("bid_spread_bps", c.bid_spread_bps)):
        if spread < floor:
            label = PARAMS_BY_NAME[name].label
            return name, (
                f"{label} ({spread} bps) is below the hedge floor of {floor.normalize():f} bps "
                f"(hedge taker fee {(ctx.hedge_taker_fee * BPS).normalize():f} + own maker fee "
                f"{(ctx.own_maker_fee * BPS).normalize():f} + buffer {c.hedge_buffer_bps} bps): "
                f"raise it to at least {floor.normalize():f}"
            )
    return None


def levels_fit_the_budget(c: QuoteConfig, ctx: CheckContext) -> Problem:
    if c.mode == MIRROR:
        return None  # sizes come from the hedge book
    total = sum(c.level_amounts(), D("0"))
    if c.ask_budget_base > 0 and total > c.ask_budget_base:
        return "ask_budget_base", (
            f"{c.levels} levels of the configured sizes need {total.normalize():f} base a side, "
            f"more than the ask budget of {c.ask_budget_base}: raise the budget or shrink the levels"
        )
    if c.bid_budget_quote > 0 and ctx.reference_price:
        cost = total * ctx.reference_price
        if cost > c.bid_budget_quote:
            return "bid_budget_quote", (
                f"{c.levels} levels of the configured sizes cost about {cost:.2f} quote at the "
                f"reference {ctx.reference_price}, more than the bid budget of {c.bid_budget_quote}"
            )
    return None


def glft_limit_leaves_room(c: QuoteConfig, ctx: CheckContext) -> Problem:
    if c.mode == GLFT and 0 < c.glft_q_limit < c.glft_delta:
        return "glft_q_limit", (
            f"The inventory limit Q ({c.glft_q_limit}) is below the fill size Δ "
            f"({c.glft_delta}): no fill would fit, so neither side would ever quote; raise Q to "
            "at least Δ, or set it to 0 to turn the limit off"
        )
    return None


CROSS_FIELD_CHECKS: tuple[Callable[[QuoteConfig, CheckContext], Problem], ...] = (
    levels_stay_positive,
    ceiling_above_floor,
    max_age_not_below_refresh,
    minimum_spread_below_spreads,
    spreads_clear_the_floor,
    levels_fit_the_budget,
    glft_limit_leaves_room,
)


def cross_field_problems(config: QuoteConfig, context: CheckContext) -> dict[str, str]:
    problems: dict[str, str] = {}
    for check in CROSS_FIELD_CHECKS:
        found = check(config, context)
        if found and found[0] not in problems:
            problems[found[0]] = found[1]
    return problems


DEFAULTS = parse(DEFAULTS_BY_NAME)
