"""Markets of the demo on the HollaEx stub through ccxt: as the own venue (the MM account's) or as
the hedge venue, with the stub's account as the bot's; and on the REST and websocket stubs
together, for the stream process."""

from __future__ import annotations

from decimal import Decimal

from bots.models import Account, Market, Venue
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.simulation.stub_exchanges.hollaex_ws import HollaExWsStub
from bots.venues import venue_for
from tests.support.streams import Stubs

D = Decimal


def hollaex_account(stub, role: str, name: str = "hollaex-stub") -> Account:
    venue = Venue.objects.create(
        name=name, label="HollaEx (stub)", kind=Venue.CCXT, exchange_id="hollaex",
        options={**stub.ccxt_config(), "enableRateLimit": False, "timeout": 1500},
    )
    account = Account(venue=venue, name=f"{role} on {name}", role=role)
    account.set_credentials(stub.API_KEY, stub.SECRET)
    account.save()
    return account


def on_hollaex(market: Market, stub, role: str) -> Market:
    """The market with its MM account (role MARKET_MAKING) or hedge account on the stub."""
    account = hollaex_account(stub, role)
    field = "mm_account" if role == Account.MARKET_MAKING else "hedge_account"
    Market.objects.filter(pk=market.pk).update(**{field: account})
    return Market.objects.select_related("mm_account__venue", "hedge_account__venue").get(pk=market.pk)


class HollaExStubs(Stubs):
    """The HollaEx REST and websocket stubs, with liquidity on both sides of 65,000."""

    REST = HollaExStub
    WS = HollaExWsStub


def make_on_hollaex_streams(market: Market, stubs: HollaExStubs) -> Market:
    """The market's MM bot quotes on the HollaEx stubs (REST and websocket): one ask of 0.01 BTC
    at 65,000 rests there, below the stub's other asks."""
    venue = Venue.objects.create(
        name="hollaex-stub", label="HollaEx (stub)", kind=Venue.CCXT, exchange_id="hollaex",
        options={**stubs.ws.ccxt_config(), "enableRateLimit": False, "timeout": 2000},
    )
    account = Account(venue=venue, name="market making on hollaex-stub", role=Account.MARKET_MAKING)
    account.set_credentials(HollaExStub.API_KEY, HollaExStub.SECRET)
    account.save()
    Market.objects.filter(pk=market.pk).update(mm_account=account, last_fill_timestamp=0)
    venue_for(account).create_order("BTC/USDT", "limit", "sell", D("0.01"), D("65000"))
    return Market.objects.get_for_work(market.pk)
