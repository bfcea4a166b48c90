"""The make-believe world around the paper venues: users trading with the MM bot, and an
outside market whose price wanders and whose book the hedges trade against.

Deterministic from each market's seed and the wall-clock second (bots.engine.simulation.flow).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction

from bots.engine.market_making.quoting import QuoteParams, quote_levels
from bots.engine.rules import dec, floor_to
from bots.engine.simulation.flow import random_walk_step, user_orders
from bots.models import Account, Market, PaperMarket, Venue
from bots.venues import ccxt_errors as ccxt
from bots.venues.errors import describe
from bots.venues.paper import PaperVenue, rules_of

log = logging.getLogger(__name__)

# The default outside book (PaperMarket's book_* defaults): tight and deep, like a major
# exchange's, refreshed every second.
OUTSIDE_BOOK = QuoteParams(
    spread_bps=Decimal("2"),
    levels=25,
    level_spacing_bps=Decimal("2"),
    level_amount=Decimal("0.3"),
    amount_growth=Decimal("0.25"),
)


def users_account(market: Market) -> Account | None:
    return Account.objects.filter(venue=market.mm_account.venue, role=Account.USERS).first()


def user_trade(market: Market, side: str, amount: Decimal) -> dict:
    """A simulated user sends a market order to the MM bot's venue. Raises ccxt errors."""
    account = users_account(market)
    if account is None or market.mm_account.venue.kind != Venue.PAPER:
        raise ccxt.NotSupported(f"{market.symbol} has no simulated users: its venue is not paper")
    venue = PaperVenue(account)
    return venue.create_order(
        market.symbol, "market", side, venue.amount_to_precision(market.symbol, amount)
    )


def simulate_users(second: int) -> int:
    """Send this second's user orders for every market that has simulated users; count them."""
    sent = 0
    # Markets on ccxt venues have their users at the exchange (the stubs bring their own).
    markets = Market.objects.filter(
        enabled=True, sim_trades_per_minute__gt=0, mm_account__venue__kind=Venue.PAPER
    ).select_related("mm_account__venue")
    for market in markets:
        for order in user_orders(
            market.sim_seed, market.slug, second, market.sim_trades_per_minute, market.sim_mean_amount
        ):
            try:
                user_trade(market, order.side, order.amount)
                sent += 1
            except ccxt.BaseError as exc:  # a user order the book cannot take is the user's problem
                log.info("simulated user order on %s refused: %s", market.symbol, describe(exc))
    return sent


def move_outside_markets(second: int) -> int:
    """Step each outside paper market's price once per second and rest a fresh book around it.

    A symbol quoted on several outside venues walks on the first of them (the oldest venue);
    each other venue's price is the first's moved by a fresh Gaussian step of its own
    volatility, so the venues' mids stay a few bps apart, as arbitrageurs keep real exchanges,
    and which one is cheaper changes from second to second."""
    moved = 0
    anchors: dict[str, Decimal] = {}
    for liquidity in Account.objects.filter(
        role=Account.LIQUIDITY, venue__kind=Venue.PAPER
    ).order_by("venue_id", "pk"):
        for symbol in PaperMarket.objects.filter(
            venue=liquidity.venue, reference_price__isnull=False
        ).values_list("symbol", flat=True):
            with transaction.atomic():
                market = PaperMarket.objects.select_for_update().get(venue=liquidity.venue, symbol=symbol)
                if market.reference_second >= second:
                    anchors.setdefault(symbol, dec(market.reference_price))
                    continue  # another process did this second already
                key = f"{liquidity.venue.name}:{symbol}"
                walked_from = anchors.get(symbol, dec(market.reference_price))
                price = random_walk_step(walked_from, 1, key, second, market.volatility_bps)
                market.reference_price = floor_to(price, market.price_tick)
                market.reference_second = second
                market.save(update_fields=["reference_price", "reference_second"])
                anchors.setdefault(symbol, market.reference_price)
                levels = quote_levels(market.reference_price, outside_book(market), rules_of(market))
                PaperVenue(liquidity).replace_orders(symbol, levels)
                moved += 1
    return moved


def outside_book(market: PaperMarket) -> QuoteParams:
    """The shape of the outside book a paper market's liquidity rests (its book_* columns)."""
    return QuoteParams(
        spread_bps=dec(market.book_spread_bps),
        levels=market.book_levels,
        level_spacing_bps=dec(market.book_level_spacing_bps),
        level_amount=dec(market.book_level_amount),
        amount_growth=dec(market.book_amount_growth),
    )
