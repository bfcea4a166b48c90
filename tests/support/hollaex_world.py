"""Markets of the demo on the HollaEx stub through ccxt: as the own venue (the MM account's) or as
the hedge venue, with the stub's account as the bot's."""

from __future__ import annotations

from bots.models import Account, Market, Venue


def hollaex_account(stub, role: str, name: str = "hollaex-stub") -> Account:
    venue = Venue.objects.create(
        name=name, label="HollaEx (stub)", kind=Venue.CCXT, exchange_id="hollaex",
        options={**stub.ccxt_config(), "enableRateLimit": False, "timeout": 300},
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
