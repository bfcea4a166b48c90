"""A market's intervention settings: the detectors' thresholds, how a proposal is sized and how
its slices go. One table (PARAMS) gives each its meaning, unit and bounds, as the quote
settings' does; the model's columns and the settings form are built from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from bots.engine.interventions.detectors import DetectorSettings
from bots.engine.interventions.proposal import Sizing
from bots.engine.interventions.slicing import SliceLimits
from bots.engine.market_making.quote_config import InvalidSettings, Param, coerce_all

OWN = "own"  # the own exchange's book, through the MM account
HEDGE = "hedge"  # the market's primary hedge venue, through the hedge account
WHERE = (OWN, HEDGE)

DETECTION = "Detection"
PROPOSAL = "Proposal"
EXECUTION = "Execution"
GROUPS = (DETECTION, PROPOSAL, EXECUTION)

D = Decimal


def _p(name, kind, default, label, group, help, unit="", lo=None, hi=None, **extra) -> Param:
    return Param(name, kind, default, label, help, group, unit, lo, hi, **extra)


PARAMS: tuple[Param, ...] = (
    _p("detect", bool, False, "Detect and propose", DETECTION,
       "Run the detectors every minute and propose an intervention when they agree"),
    _p("flow_window_minutes", int, 15, "Flow window", DETECTION,
       "How far back the users' net flow is counted", "min", 1, 1440),
    _p("flow_threshold", D, D("0"), "Net flow threshold", DETECTION,
       "Users' net buying or selling over the window beyond which the flow detector fires",
       "base", D("0"), D("1000000000"), off_at_zero=True),
    _p("mid_move_pct", D, D("0"), "Mid move", DETECTION,
       "How far the own mid may sit from the hedge venues' reference", "%", D("0"), D("50"),
       off_at_zero=True),
    _p("imbalance_ratio", D, D("0"), "Book imbalance", DETECTION,
       "Within ±1% of the mid, the heavier side's depth over the lighter one's beyond which the "
       "imbalance detector fires (above 1)", "×", D("0"), D("1000"), off_at_zero=True),
    _p("inventory_check", bool, True, "Inventory band", DETECTION,
       "Fire when the MM account's base is outside its treasury band"),
    _p("cooldown_minutes", int, 30, "Cool-down", DETECTION,
       "After an intervention ends, how long before the detectors may propose another", "min",
       0, 1440),
    _p("default_amount", D, D("0.1"), "Size", PROPOSAL,
       "Base to buy back or unwind when no band says how much", "base", D("0.00000001"),
       D("1000000000")),
    _p("duration_minutes", int, 30, "Duration", PROPOSAL,
       "Over how long the slices are spread", "min", 1, 1440),
    _p("limit_bps", D, D("50"), "Price limit", PROPOSAL,
       "A buyback's cap above, an unwind's floor below the hedge venues' reference", "bps",
       D("0"), D("2000")),
    _p("where", str, HEDGE, "Venue", PROPOSAL,
       "own: the own book, through the MM account; hedge: the primary hedge venue",
       choices=WHERE),
    _p("slice_seconds", int, 60, "Slice interval", EXECUTION,
       "The average gap between slices; each goes at a random moment of its slot", "s", 5, 3600),
    _p("jitter", D, D("0.5"), "Size jitter", EXECUTION,
       "How far a slice's size may stray from the even share (0.5: ±50%)", "×", D("0"), D("0.9")),
    _p("participation_pct", D, D("20"), "Participation cap", EXECUTION,
       "A slice takes at most this share of what the market traded over the participation "
       "window", "%", D("1"), D("100")),
    _p("participation_window_minutes", int, 5, "Participation window", EXECUTION,
       "How far back the market's volume is read for the cap", "min", 1, 120),
)
PARAMS_BY_NAME = {p.name: p for p in PARAMS}
DEFAULTS_BY_NAME = {p.name: p.default for p in PARAMS}


@dataclass(frozen=True)
class InterventionConfig:
    detect: bool
    flow_window_minutes: int
    flow_threshold: Decimal
    mid_move_pct: Decimal
    imbalance_ratio: Decimal
    inventory_check: bool
    cooldown_minutes: int
    default_amount: Decimal
    duration_minutes: int
    limit_bps: Decimal
    where: str
    slice_seconds: int
    jitter: Decimal
    participation_pct: Decimal
    participation_window_minutes: int

    def detectors(self) -> DetectorSettings:
        return DetectorSettings(
            self.flow_window_minutes, self.flow_threshold, self.mid_move_pct,
            self.imbalance_ratio, self.inventory_check,
        )

    def sizing(self) -> Sizing:
        return Sizing(self.default_amount, self.duration_minutes, self.limit_bps)

    def slices(self) -> SliceLimits:
        return SliceLimits(self.slice_seconds, self.jitter, self.participation_pct)


def imbalance_above_one(values: dict) -> tuple[str, str] | None:
    ratio = values["imbalance_ratio"]
    if 0 < ratio <= 1:
        return "imbalance_ratio", (
            f"Book imbalance ({ratio}×) must be above 1 (one side heavier than the other), or 0 "
            "to switch the detector off"
        )
    return None


CROSS_FIELD_CHECKS = (imbalance_above_one,)


def parse(values: Mapping[str, object]) -> InterventionConfig:
    """The validated settings from raw values (form strings, model attributes), or
    InvalidSettings."""
    clean = coerce_all(PARAMS, values)
    problems = dict(found for check in CROSS_FIELD_CHECKS if (found := check(clean)))
    if problems:
        raise InvalidSettings(problems)
    return InterventionConfig(**clean)


DEFAULTS = parse(DEFAULTS_BY_NAME)
