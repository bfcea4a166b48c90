"""A market's trading rules (precision, minimums, fees) and the Decimal arithmetic on them.

Every price and amount the engine produces passes through these rules, so that nothing is
sent to a venue only to be rejected for a rounding detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

BUY = "buy"
SELL = "sell"
SIDES = (BUY, SELL)
BPS = Decimal("10000")
ZERO = Decimal("0")


def dec(value) -> Decimal:
    """Decimal from a str, int, Decimal or ccxt float, never through float's binary noise."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def opposite(side: str) -> str:
    return SELL if side == BUY else BUY


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_FLOOR) * step


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_CEILING) * step


def on_grid(value: Decimal, step: Decimal) -> bool:
    return (value / step) == (value / step).to_integral_value()


def bps_of(value: Decimal, reference: Decimal) -> Decimal:
    return value / reference * BPS


@dataclass(frozen=True)
class MarketRules:
    """Precision, limits and fees of one symbol on one venue (fees as fractions: 0.001 = 10 bps)."""

    symbol: str
    base: str
    quote: str
    price_tick: Decimal
    amount_step: Decimal
    min_amount: Decimal = ZERO
    min_cost: Decimal = ZERO
    maker_fee: Decimal = ZERO
    taker_fee: Decimal = ZERO

    @classmethod
    def from_market(cls, market: dict) -> MarketRules:
        """Build from a ccxt-shaped market dict (precision in tick-size mode)."""
        limits = market.get("limits") or {}
        return cls(
            symbol=market["symbol"],
            base=market["base"],
            quote=market["quote"],
            price_tick=dec(market["precision"]["price"]),
            amount_step=dec(market["precision"]["amount"]),
            min_amount=dec((limits.get("amount") or {}).get("min") or 0),
            min_cost=dec((limits.get("cost") or {}).get("min") or 0),
            maker_fee=dec(market.get("maker") or 0),
            taker_fee=dec(market.get("taker") or 0),
        )

    def to_market(self) -> dict:
        """The ccxt-shaped market dict for these rules."""
        return {
            "id": self.symbol.replace("/", ""),
            "symbol": self.symbol,
            "base": self.base,
            "quote": self.quote,
            "type": "spot",
            "spot": True,
            "active": True,
            "maker": self.maker_fee,
            "taker": self.taker_fee,
            "precision": {"price": self.price_tick, "amount": self.amount_step},
            "limits": {
                "amount": {"min": self.min_amount, "max": None},
                "cost": {"min": self.min_cost, "max": None},
                "price": {"min": None, "max": None},
            },
        }

    def round_price(self, price: Decimal, side: str) -> Decimal:
        """Round away from the market's favour: bids down, asks up, so a quote never tightens."""
        return floor_to(price, self.price_tick) if side == BUY else ceil_to(price, self.price_tick)

    def round_amount(self, amount: Decimal) -> Decimal:
        return floor_to(amount, self.amount_step)

    def is_tradable(self, amount: Decimal, price: Decimal) -> bool:
        return amount > 0 and amount >= self.min_amount and amount * price >= self.min_cost
