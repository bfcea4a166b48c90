"""A market, funded accounts and state readers shared by the matching tests."""

from __future__ import annotations

from decimal import Decimal

from bots.engine.matching import Balances, Book
from bots.engine.rules import BUY, MarketRules

RULES = MarketRules(
    symbol="BTC/USDT",
    base="BTC",
    quote="USDT",
    price_tick=Decimal("0.01"),
    amount_step=Decimal("0.001"),
    min_amount=Decimal("0.001"),
    min_cost=Decimal("1"),
    maker_fee=Decimal("0.001"),
    taker_fee=Decimal("0.002"),
)
ACCOUNTS = ("alice", "bob", "carol")
START_BASE = Decimal("10")
START_QUOTE = Decimal("10000")


def funded_book(
    rules: MarketRules = RULES, base: Decimal = START_BASE, quote: Decimal = START_QUOTE
) -> Book:
    """An empty book whose accounts each start with `base` and `quote` free."""
    zero = Decimal("0")
    rows = [
        (account, asset, amount, zero)
        for account in ACCOUNTS
        for asset, amount in ((rules.base, base), (rules.quote, quote))
    ]
    return Book(rules, balances=Balances(rows))


def snapshot(book: Book) -> tuple:
    """Everything a request may change: balances, and each open order's place and progress."""
    balances = tuple(sorted(book.balances.items()))
    orders = tuple(
        (side, o.id, o.account, o.price, o.amount, o.filled, o.status)
        for side, resting in (("bids", book.bids), ("asks", book.asks))
        for o in resting
    )
    return balances, orders


def held_by_open_orders(book: Book, account: str, asset: str) -> Decimal:
    """What the account's open orders should hold of `asset`: quote for buys, base for sells."""
    total = Decimal("0")
    for order in book.open_orders(account):
        if order.side == BUY and asset == book.rules.quote:
            total += order.remaining * order.price
        elif order.side != BUY and asset == book.rules.base:
            total += order.remaining
    return total
