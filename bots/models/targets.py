"""The targets an operator holds each market to, and the history of every change to them.

Bands are graded by bots.engine.desk.liquidity: green at or better than the target, amber up to the
alarm line, red past it; the exchange's listing rules are red lines of their own.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from bots.engine.desk import liquidity

from .fields import bps, money
from .markets import Market

DEPTH_PCT_CHOICES = [(f"{pct:f}", f"±{pct}%") for pct in liquidity.DEPTH_BANDS_PCT]


def plain(value) -> str:
    """A Decimal as people write it: 10, not 10.000000000000000000."""
    return format(Decimal(value).normalize(), "f") if value not in (None, "") else ""


def _depth_band(pct: str, which: str, help_text: str) -> models.DecimalField:
    return money(low=0, verbose_name=f"depth ±{pct}% {which}", help_text=help_text)


class MarketTargets(models.Model):
    market = models.OneToOneField(Market, on_delete=models.CASCADE, related_name="targets")
    spread_target_bps = bps(
        verbose_name="spread target (bps)", help_text="Green at or below, in bps of the mid"
    )
    spread_alarm_bps = bps(
        verbose_name="spread red line (bps)", help_text="Red above, in bps of the mid"
    )
    depth_05_target = _depth_band("0.5", "target", "Green at or above, quote currency per side")
    depth_05_alarm = _depth_band("0.5", "red line", "Red below, quote currency per side")
    depth_1_target = _depth_band("1", "target", "Green at or above, quote currency per side")
    depth_1_alarm = _depth_band("1", "red line", "Red below, quote currency per side")
    depth_2_target = _depth_band("2", "target", "Green at or above, quote currency per side")
    depth_2_alarm = _depth_band("2", "red line", "Red below, quote currency per side")
    uptime_target_pct = money(
        low=0, high=100, verbose_name="uptime target (%)",
        help_text="Share of the day both sides are quoted: green at or above",
    )
    uptime_alarm_pct = money(low=0, high=100, verbose_name="uptime red line (%)", help_text="Red below")
    listing_max_spread_bps = bps(
        verbose_name="listing: maximum spread (bps)", help_text="The exchange's listing rule"
    )
    listing_min_depth = money(
        low=0, verbose_name="listing: minimum depth",
        help_text="Quote currency per side, listing rule",
    )
    listing_depth_pct = models.CharField(
        max_length=3, choices=DEPTH_PCT_CHOICES, verbose_name="listing: depth band",
        help_text="Where the listing depth is measured",
    )
    listing_min_daily_volume = money(
        low=0, verbose_name="listing: minimum daily volume",
        help_text="Quote currency over 24 h, listing rule",
    )
    version = models.PositiveIntegerField(default=1, help_text="Raised by each change; a stale form is refused")
    updated_at = models.DateTimeField(auto_now=True)

    EDITABLE = (
        "spread_target_bps", "spread_alarm_bps",
        "depth_05_target", "depth_05_alarm", "depth_1_target", "depth_1_alarm",
        "depth_2_target", "depth_2_alarm",
        "uptime_target_pct", "uptime_alarm_pct",
        "listing_max_spread_bps", "listing_min_depth", "listing_depth_pct", "listing_min_daily_volume",
    )
    DEPTH_FIELDS = {
        Decimal("0.5"): ("depth_05_target", "depth_05_alarm"),
        Decimal("1"): ("depth_1_target", "depth_1_alarm"),
        Decimal("2"): ("depth_2_target", "depth_2_alarm"),
    }

    class Meta:
        verbose_name_plural = "market targets"

    def __str__(self) -> str:
        return f"targets of {self.market}"

    @classmethod
    def defaults_for(cls, symbol: str) -> dict[str, Decimal]:
        t = liquidity.default_targets(symbol)
        values = {
            "spread_target_bps": t.spread.target,
            "spread_alarm_bps": t.spread.alarm,
            "uptime_target_pct": t.uptime_pct.target,
            "uptime_alarm_pct": t.uptime_pct.alarm,
            "listing_max_spread_bps": t.listing.max_spread_bps,
            "listing_min_depth": t.listing.min_depth,
            "listing_depth_pct": f"{t.listing.depth_pct:f}",
            "listing_min_daily_volume": t.listing.min_daily_volume,
        }
        for pct, (target, alarm) in cls.DEPTH_FIELDS.items():
            values[target], values[alarm] = t.depth[pct].target, t.depth[pct].alarm
        return values

    @classmethod
    def for_market(cls, market: Market) -> MarketTargets:
        """The market's targets; a market without any gets the defaults for its kind of pair."""
        return cls.objects.get_or_create(market=market, defaults=cls.defaults_for(market.symbol))[0]

    @classmethod
    def current(cls, market: Market) -> MarketTargets:
        """The market's targets read now (never a cached copy), or the defaults it would get,
        unsaved: for pages, which only read."""
        return cls.objects.filter(market=market).first() or cls(market=market, **cls.defaults_for(market.symbol))

    def bands(self) -> liquidity.Targets:
        return liquidity.Targets(
            spread=liquidity.Band(self.spread_target_bps, self.spread_alarm_bps, higher_is_better=False),
            depth={
                pct: liquidity.Band(getattr(self, target), getattr(self, alarm), higher_is_better=True)
                for pct, (target, alarm) in self.DEPTH_FIELDS.items()
            },
            uptime_pct=liquidity.Band(self.uptime_target_pct, self.uptime_alarm_pct, higher_is_better=True),
            listing=liquidity.ListingRules(
                max_spread_bps=self.listing_max_spread_bps,
                min_depth=self.listing_min_depth,
                depth_pct=Decimal(self.listing_depth_pct),
                min_daily_volume=self.listing_min_daily_volume,
            ),
        )

    def clean(self):
        problems: dict[str, str] = {}
        for check in (_alarm_beyond_target, _wider_bands_hold_more):
            for field, message in check(self).items():
                problems.setdefault(field, message)
        if problems:
            raise ValidationError(problems)


def _alarm_beyond_target(t: MarketTargets) -> dict[str, str]:
    """An alarm line on the good side of its target would make green unreachable before red."""
    problems = {}
    if None not in (t.spread_alarm_bps, t.spread_target_bps) and t.spread_alarm_bps < t.spread_target_bps:
        problems["spread_alarm_bps"] = "The red line must be at or above the spread target."
    for pct, (target, alarm) in MarketTargets.DEPTH_FIELDS.items():
        if None not in (getattr(t, target), getattr(t, alarm)) and getattr(t, alarm) > getattr(t, target):
            problems[alarm] = f"The red line must be at or below the ±{pct}% depth target."
    if None not in (t.uptime_alarm_pct, t.uptime_target_pct) and t.uptime_alarm_pct > t.uptime_target_pct:
        problems["uptime_alarm_pct"] = "The red line must be at or below the uptime target."
    return problems


def _wider_bands_hold_more(t: MarketTargets) -> dict[str, str]:
    """Depth within 1% includes the depth within 0.5%: a smaller target for it is a typo."""
    problems = {}
    (narrow, _), *wider = MarketTargets.DEPTH_FIELDS.items()
    previous_pct, previous = narrow, MarketTargets.DEPTH_FIELDS[narrow][0]
    for pct, (target, _alarm) in wider:
        low, high = getattr(t, previous), getattr(t, target)
        if None not in (low, high) and high < low:
            problems[target] = f"Depth within ±{pct}% includes ±{previous_pct}%: its target cannot be smaller."
        previous_pct, previous = pct, target
    return problems


class TargetChange(models.Model):
    """One edit of a market's targets: who, when, and each field's old and new value."""

    targets = models.ForeignKey(MarketTargets, on_delete=models.CASCADE, related_name="changes")
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="target_changes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    version = models.PositiveIntegerField()
    changes = models.JSONField(help_text="{field: [old, new]}")

    class Meta:
        ordering = ["-changed_at", "-id"]
