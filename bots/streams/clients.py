"""The stream process's ccxt.pro clients: one per venue account, kept for the life of the process
as the REST clients are (bots/venues/clients.py), and their REST requests (markets, a book's
snapshot) through the same request budget shared by every Ballast process.

A client is kept while the account's keys and the venue's options stay the same: re-planning
the streams (a market enabled or moved) keeps its markets and its open connections; a client
whose account left the plan, or changed, is closed. The process closes them all when it stops.

HollaEx's class learns two things more: when the order topic's subscription took (the kit answers
it with a "partial" of the open orders), so that the resync after a (re)connection cannot miss a
fill made between the two (ccxt passes over an empty partial without a word), and likewise when
the wallet topic's took (its partial: the whole balance), which a hedge account's balance stream
waits for, no order topic being watched there; and to pass over
the usertrade topic's "partial" (the account's latest trades, old news): the resync that follows
every subscription reads the same trades by REST, so they are not offered twice. And it reads
each wallet message's coins afresh: ccxt's handle_balance keeps a coin's figures from message to
message and sets only its free and total, so the amount held in orders it derived from the first
message would stay as it was (safe_balance derives `used` only where it is missing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import ccxt.pro

from bots.venues.clients import budget_for, fingerprint, weight_of

_kept: dict[tuple[str, int], tuple[str, object]] = {}


class hollaex(ccxt.pro.hollaex):  # noqa: N801 - named as ccxt names its exchange classes
    def __init__(self, config=None):
        super().__init__(config or {})
        self.orders_subscribed = asyncio.Event()
        self.wallet_subscribed = asyncio.Event()

    def handle_order(self, client, message, subscription=None):
        if message.get("action") == "partial":
            self.orders_subscribed.set()
        return super().handle_order(client, message, subscription)

    def handle_my_trades(self, client, message, subscription=None):
        if message.get("action") == "partial":
            return None
        return super().handle_my_trades(client, message, subscription)

    def handle_balance(self, client, message):
        if message.get("action") == "partial":
            self.wallet_subscribed.set()
        for key in message.get("data") or {}:
            held = self.balance.get(self.safe_currency_code(key.split("_")[0]))
            if isinstance(held, dict):
                held.pop("used", None)
        return super().handle_balance(client, message)

    def on_error(self, client, error):
        self.orders_subscribed.clear()
        self.wallet_subscribed.clear()
        return super().on_error(client, error)

    def on_close(self, client, error):
        self.orders_subscribed.clear()
        self.wallet_subscribed.clear()
        return super().on_close(client, error)


CLASSES = {"hollaex": hollaex}


def build(exchange_id: str, options: dict, credentials: dict, label: str):
    config = {"timeout": 10000, **options, **credentials}
    # The shared budget paces REST requests (unless the options say enableRateLimit: false);
    # ccxt's own pacing, which knows only this process, would add its sleeps on top.
    paced = bool(options.get("enableRateLimit", True))
    config["enableRateLimit"] = False
    client = CLASSES.get(exchange_id, getattr(ccxt.pro, exchange_id))(config)
    budget, send = budget_for(client, label), client.fetch2

    async def fetch2(path, api="public", method="GET", params=None, config=None):
        params, config = params or {}, config or {}
        if paced:
            weight = weight_of(client, path, api, method, params, config)
            # The budget waits in Redis's time (and may sleep): off the event loop.
            await asyncio.to_thread(budget.take, weight, method == "DELETE")
        return await send(path, api, method, params, config)

    client.fetch2 = fetch2
    return client


def kept(venue: str, account_id: int, exchange_id: str, options: dict, credentials: dict,
         make: Callable[[], object] | None = None):
    """The process's client for this account, built on first use and again when it changed;
    `make` builds one other than ccxt.pro's (a paper venue's stream)."""
    key = (venue, account_id)
    print_ = fingerprint(exchange_id, options, credentials)
    found = _kept.get(key)
    if found is None or found[0] != print_:
        stale = found[1] if found is not None else None
        made = make() if make is not None else build(exchange_id, options, credentials, venue)
        found = _kept[key] = (print_, made)
        if stale is not None:
            asyncio.ensure_future(stale.close())
    return found[1]


async def close_except(keep: set[tuple[str, int]]) -> None:
    """Close the kept clients of accounts not in `keep` (all of them for an empty set)."""
    for key in [k for k in _kept if k not in keep]:
        _, client = _kept.pop(key)
        await client.close()
