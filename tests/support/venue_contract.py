"""The venue contract's subject: a venue for the bot's account and a way to rest another
account's order on its book, on the paper venue or through ccxt on a local exchange stub."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

SYMBOL = "BTC/USDT"
D = Decimal
BOT_FUNDS = {"BTC": "1", "USDT": "10000"}


@dataclass
class Contract:
    venue: object  # the Venue under test, for the bot's account
    seed_liquidity: Callable[[str, Decimal, Decimal], object]  # another account's resting order
    unknown_order_id: str = "999999999"  # an id of the venue's shape that names no order
    stub: object = None  # the exchange stub behind a ccxt venue, for what only it can do


def paper_contract() -> Contract:
    # Imported here so that the ccxt half still runs while the paper venue is being changed.
    from bots.models import Account, PaperBalance, PaperMarket, Venue
    from bots.venues.paper import PaperVenue

    venue = Venue.objects.create(name="paper-x", label="Paper X", kind=Venue.PAPER)
    PaperMarket.objects.create(
        venue=venue, symbol=SYMBOL, base="BTC", quote="USDT", price_tick=D("0.01"),
        amount_step=D("0.00001"), min_amount=D("0.00001"), min_cost=D("5"),
        maker_fee=D("0.001"), taker_fee=D("0.001"),
    )
    bot = Account.objects.create(venue=venue, name="bot", role=Account.MARKET_MAKING)
    liquidity = Account.objects.create(venue=venue, name="outside", role=Account.LIQUIDITY)
    for account, funds in [(bot, BOT_FUNDS), (liquidity, {"BTC": "1000", "USDT": "10000000"})]:
        for asset, amount in funds.items():
            PaperBalance.objects.create(account=account, asset=asset, free=D(amount))

    def seed(side, price, amount):
        return PaperVenue(liquidity).create_order(SYMBOL, "limit", side, D(amount), D(price))

    return Contract(PaperVenue(bot), seed)


def balance(venue, asset: str) -> tuple[Decimal, Decimal]:
    row = venue.fetch_balance()[asset]
    return row["free"], row["used"]


def ccxt_contract(stub, name: str, exchange_id: str, unknown_order_id: str) -> Contract:
    """CcxtVenue driving real ccxt against a running stub (BinanceStub or HollaExStub)."""
    from bots.venues.ccxt_venue import CcxtVenue  # ccxt: only for the ccxt cases

    options = {**stub.ccxt_config(), "enableRateLimit": False, "timeout": 2000}
    credentials = {"apiKey": stub.API_KEY, "secret": stub.SECRET}
    venue = CcxtVenue.from_settings(name, exchange_id, options, credentials)
    return Contract(venue, lambda side, price, amount: stub.seed_liquidity(side, price, amount),
                    unknown_order_id, stub)
