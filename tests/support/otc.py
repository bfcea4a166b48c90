"""A broker market on the demo's venues: an inventory account on the own paper venue, the demo's
hedge account on the outside one, and a way to put the outside book where a test wants it."""

from __future__ import annotations

from decimal import Decimal

from bots.engine.market_making.quoting import quote_levels
from bots.models import Account, BrokerSettings, Market, PaperBalance, PaperMarket, QuoteSettings
from bots.otc import clients
from bots.simulation.paper_flow import move_outside_markets, outside_book
from bots.venues.paper import PaperVenue, rules_of

D = Decimal
SLUG = "btc-usdt-otc"


def make_broker_market(demo_market: Market, **terms) -> Market:
    inventory = Account.objects.create(
        venue=demo_market.mm_account.venue, name="OTC inventory", role=Account.MARKET_MAKING
    )
    for asset, amount in {"BTC": D("10"), "USDT": D("1000000")}.items():
        PaperBalance.objects.create(account=inventory, asset=asset, free=amount)
    market = Market.objects.create(
        slug=SLUG, symbol=demo_market.symbol, kind=Market.BROKER, mm_account=inventory,
        hedge_account=demo_market.hedge_account,
    )
    QuoteSettings.objects.create(market=market, hedge_buffer_bps=D("2"))
    BrokerSettings.objects.create(market=market, **terms)
    move_outside_markets(second=1)
    return Market.objects.get_for_work(market.pk)


def outside_at(market: Market, price: Decimal) -> None:
    """Rest the outside venue's book around `price` (what the hedge venue's users would do)."""
    liquidity = Account.objects.get(venue=market.hedge_account.venue, role=Account.LIQUIDITY)
    row = PaperMarket.objects.get(venue=liquidity.venue, symbol=market.symbol)
    row.reference_price = price
    row.save(update_fields=["reference_price"])
    PaperVenue(liquidity).replace_orders(market.symbol, quote_levels(price, outside_book(row), rules_of(row)))


def outside_reference(market: Market) -> Decimal:
    return PaperMarket.objects.get(venue=market.hedge_account.venue, symbol=market.symbol).reference_price


def token_for(name: str = "front end", per_minute: int = 60):
    return clients.create(name, per_minute, None)
