"""The venue interface over any exchange ccxt knows, for one account there.

ccxt does the exchange's protocol, signing and error mapping, and its exceptions pass through
unchanged. What this adapter adds is what Ballast's interface promises beyond ccxt: Decimals in
and out, post-only spelled one way, orders off the market's grid refused instead of silently
rounded, and a malformed answer raised as ccxt.BadResponse instead of a KeyError or, worse, an
empty result.

Where an exchange lacks what the interface promises, the adapter fills the gap the same way for
every caller: a trade without an id gets one derived from its fields (bots/venues/fill_identity.py),
an IOC order on an exchange without IOC is placed and its rest cancelled at once, and on an
exchange whose orders carry no client order id (`client_order_ids` False) that id is not sent and
cannot be looked up (NotSupported): bots/venues/order_lookup.py finds such an order by what was
sent instead.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation, localcontext

import ccxt
from django.conf import settings

from bots.engine.rules import dec
from bots.venues import stream_state
from bots.venues.clients import KeptClient, client_fingerprint, kept_client
from bots.venues.fill_identity import with_ids

log = logging.getLogger(__name__)

# What ccxt's parsing code raises when an answer is JSON of the wrong shape.
MALFORMED = (LookupError, TypeError, ValueError, AttributeError, InvalidOperation)

# Exchanges whose ccxt class neither sends nor parses a client order id: ccxt's `has` has no key
# for it, so it is named here (hollaex's parse_order sets clientOrderId None). A venue's options
# can say otherwise either way: {"options": {"clientOrderIds": false}}.
WITHOUT_CLIENT_ORDER_IDS = frozenset({"hollaex"})
# Exchanges that name a withdrawal by a reference of their own before the network's hash.
KIT_REFERENCES = frozenset({"hollaex"})
# Extra params that make an exchange answer a time-bounded read oldest first, as binance does: by
# default hollaex answers the newest page, so a read `since` a time could skip the oldest trades.
OLDEST_FIRST = {
    "hollaex": {
        "fetch_my_trades": {"order_by": "timestamp", "order": "asc"},
        "fetch_orders": {"order_by": "created_at", "order": "asc"},
    },
}
# hollaex's answer when a post-only order would take. ccxt 4.5.90 maps it by a text that reads
# "self order" where the exchange says "this order", so it arrives as a plain BadRequest.
HOLLAEX_POST_ONLY = "set to a post only order"


def to_decimals(value):
    """The same structure with every float as the Decimal it prints as; the raw 'info' untouched."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: item if key == "info" else to_decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_decimals(item) for item in value]
    return value


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return value is not None


def with_networks(currency: dict) -> dict:
    """A ccxt currency with the gaps filled the same way for every exchange: a coin on one
    chain (hollaex's btc) gets that one network, named by its code, from the coin's own
    figures; a network without its own withdrawal minimum or state (hollaex states them per
    coin: `min`, `allow_withdrawal`, `allow_deposit`) gets the coin's. A missing fee stays missing."""
    limits = currency.get("limits") or {}
    coin_minimum = (limits.get("withdraw") or {}).get("min")
    if coin_minimum is None:
        coin_minimum = (limits.get("amount") or {}).get("min")
    networks = currency.get("networks") or {}
    if not networks and currency.get("fee") is not None:
        networks = {currency["code"]: {
            "info": {}, "id": currency.get("id"), "network": currency["code"],
            "active": currency.get("active"), "deposit": currency.get("deposit"),
            "withdraw": currency.get("withdraw"), "fee": currency["fee"],
            "precision": currency.get("precision"), "limits": {"withdraw": {}},
        }}
    for network in networks.values():
        network_limits = network.setdefault("limits", {}) or {}
        network["limits"] = network_limits
        withdraw_limits = network_limits.setdefault("withdraw", {}) or {}
        network_limits["withdraw"] = withdraw_limits
        if withdraw_limits.get("min") is None:
            withdraw_limits["min"] = coin_minimum
        for side in ("withdraw", "deposit"):
            if network.get(side) is None:
                network[side] = (
                    network.get("active") is not False and currency.get(side) is not False
                )
    currency["networks"] = networks
    return currency


def plain(value: Decimal) -> str:
    # ccxt formats numbers through Decimal(str(n)): a plain string reaches the exchange exactly,
    # where a float could carry binary noise and str(Decimal) could read 1E-7.
    return format(value, "f")


class CcxtVenue:
    """One Ballast account on a real exchange, through the process's ccxt client for its keys
    (bots.venues.clients: kept, markets loaded once, requests within the shared budget)."""

    # The stream process keeps its books where it can (bots/venues/stream_state.py:read_book).
    books_streamed = True

    def __init__(self, account, withdrawing: bool = False):
        """`withdrawing`: signed with the account's withdrawal key where it has one (else its
        trading key), for withdrawals and reading them back."""
        venue = account.venue
        trading = account.credentials()
        if withdrawing and account.has_withdrawal_key:
            kept = kept_client(venue, account.pk, account.withdrawal_credentials(), "withdraw")
        else:
            kept = kept_client(venue, account.pk, trading)
        self._setup(venue.name, kept)
        # One balance per account, whichever key moves it: the one its trading key reads.
        self.balance_key = stream_state.balance_key(
            account.pk, client_fingerprint(venue, trading)
        )

    @classmethod
    def from_settings(
        cls,
        name: str,
        exchange_id: str,
        options: dict | None = None,
        credentials: dict | None = None,
    ) -> CcxtVenue:
        """The same venue without a database row, for tests and scripts: a client of its own,
        not kept, but sharing the exchange's request budget like any other."""
        venue = cls.__new__(cls)
        venue._setup(name, KeptClient(name, exchange_id, options, credentials))
        return venue

    def _setup(self, name: str, kept: KeptClient):
        self.id = name
        self.kept = kept
        self.client = kept.client
        # An account row's balance is shared by the desk's processes (stream_state.read_balance)
        # under this key; a venue without a row reads its own.
        self.balance_key: str | None = None

    @property
    def requests_at_once(self) -> int:
        # The kept client is shared by threads, each on a keep-alive connection of its own.
        return settings.VENUE_REQUESTS_AT_ONCE

    @contextmanager
    def _answer(self, what: str) -> Iterator[None]:
        try:
            # ccxt's precision helpers set the thread's decimal context (rounding, traps);
            # a local context keeps that from leaking into the caller's arithmetic.
            with localcontext():
                yield
        except MALFORMED as exc:
            raise ccxt.BadResponse(
                f"{self.id} ({self.client.id}) sent a malformed answer to {what}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    # --- markets --------------------------------------------------------------------------

    def load_markets(self, reload: bool = False) -> dict[str, dict]:
        with self._answer("load_markets"):
            return self.kept.converted_markets(to_decimals, reload)

    def market(self, symbol: str) -> dict:
        markets = self.load_markets()
        if symbol not in markets:
            raise ccxt.BadSymbol(f"{self.id} has no market {symbol}")
        return markets[symbol]

    def amount_to_precision(self, symbol: str, amount) -> Decimal:
        self.load_markets()
        with self._answer("amount_to_precision"):
            return Decimal(self.client.amount_to_precision(symbol, plain(dec(amount))))

    def price_to_precision(self, symbol: str, price) -> Decimal:
        self.load_markets()
        with self._answer("price_to_precision"):
            return Decimal(self.client.price_to_precision(symbol, plain(dec(price))))

    # --- market data and account ----------------------------------------------------------

    def fetch_order_book(self, symbol: str, limit: int | None = None) -> dict:
        with self._answer("fetch_order_book"):
            return to_decimals(self.client.fetch_order_book(symbol, limit))

    def fetch_balance(self) -> dict:
        with self._answer("fetch_balance"):
            return to_decimals(self.client.fetch_balance())

    # --- orders ---------------------------------------------------------------------------

    def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: Decimal,
        price: Decimal | None = None,
        params: dict | None = None,
    ) -> dict:
        market = self.market(symbol)
        params = dict(params or {})
        if params.get("timeInForce") == "PO":
            # postOnly is ccxt's unified spelling; not every exchange class reads "PO".
            del params["timeInForce"]
            params["postOnly"] = True
        amount = dec(amount)
        amount_text = self._on_grid(symbol, "amount", amount)
        price_text = None
        if type == "limit":
            if price is None:
                raise ccxt.InvalidOrder(f"{self.id}: a limit order needs a price")
            price = dec(price)
            price_text = self._on_grid(symbol, "price", price)
        else:
            # A market order has no price: binance's ccxt class would turn amount * price into a
            # quote-currency order.
            price = None
        self._check_minimums(market, amount, price)
        if not self.client_order_ids:
            # Not sent where the exchange keeps none: it would be ignored, or refused as unknown.
            params.pop("clientOrderId", None)
        emulate_ioc = params.get("timeInForce") == "IOC" and not self._offers_time_in_force("IOC")
        if emulate_ioc:
            del params["timeInForce"]
        stream_state.balance_moving(self.balance_key)  # a balance read before is no longer fresh
        try:
            with self._answer("create_order"):
                order = to_decimals(
                    self.client.create_order(symbol, type, side, amount_text, price_text, params)
                )
        except ccxt.BadRequest as exc:
            if params.get("postOnly") and HOLLAEX_POST_ONLY in str(exc):
                raise ccxt.OrderImmediatelyFillable(str(exc)) from exc
            raise
        if order.get("id") is None:
            # The venue may hold the order; without its id, only the client order id can find it.
            raise ccxt.BadResponse(f"{self.id} accepted an order without giving its id: {order}")
        if emulate_ioc and order.get("status") in ("open", None):
            # What IOC means: whatever did not fill at once does not rest.
            try:
                order = self.cancel_order(order["id"], symbol)
            except ccxt.OrderNotFound:
                order = self.fetch_order(order["id"], symbol)  # it filled before the cancel came
        return order

    def _offers_time_in_force(self, tif: str) -> bool:
        """Whether ccxt's features say the exchange takes this time in force (unknown: yes)."""
        features = (self.client.features or {}).get("spot") or {}
        return ((features.get("createOrder") or {}).get("timeInForce") or {}).get(tif) is not False

    @property
    def client_order_ids(self) -> bool:
        """Whether the exchange keeps the client order id an order is sent with, so it can be
        found by it; where not, bots/venues/order_lookup.py finds it by side, price, amount and
        time."""
        told = (self.client.options or {}).get("clientOrderIds")
        if told is not None:
            return bool(told)
        return self.client.id not in WITHOUT_CLIENT_ORDER_IDS

    def _oldest_first(self, call: str, since: int | None) -> dict:
        return dict(OLDEST_FIRST.get(self.client.id, {}).get(call, {})) if since is not None else {}

    def _on_grid(self, symbol: str, what: str, value: Decimal) -> str:
        """The value as ccxt will send it, or InvalidOrder if ccxt would have to round it."""
        to_precision = getattr(self.client, f"{what}_to_precision")
        with self._answer(f"{what}_to_precision"):
            text = to_precision(symbol, plain(value))
        if Decimal(text) != value:
            raise ccxt.InvalidOrder(
                f"{self.id} {symbol}: {what} {value} is off the market's precision; ccxt would "
                f"send {text}. Round it with {what}_to_precision first."
            )
        return text

    def _check_minimums(self, market: dict, amount: Decimal, price: Decimal | None) -> None:
        # The exchange would refuse these anyway, binance as BadRequest for the notional; refusing
        # here saves the round trip and raises what the paper venue raises.
        limits = market.get("limits") or {}
        min_amount = (limits.get("amount") or {}).get("min")
        min_cost = (limits.get("cost") or {}).get("min")
        if min_amount is not None and amount < min_amount:
            raise ccxt.InvalidOrder(
                f"{self.id} {market['symbol']}: amount {amount} is below the minimum {min_amount}"
            )
        if price is not None and min_cost is not None and amount * price < min_cost:
            raise ccxt.InvalidOrder(
                f"{self.id} {market['symbol']}: order value {amount * price} is below the "
                f"minimum {min_cost}"
            )

    def cancel_order(self, id: str, symbol: str | None = None, params: dict | None = None) -> dict:
        stream_state.balance_moving(self.balance_key)
        with self._answer("cancel_order"):
            order = to_decimals(self.client.cancel_order(id, symbol, params or {}))
        if order.get("status") is None:
            # Some exchanges (hollaex) answer a cancel without a status: it was canceled, else
            # the exchange would have refused (OrderNotFound).
            order["status"] = "canceled"
        return order

    @property
    def has(self) -> dict:
        return self.client.has

    def cancel_all_orders_after(self, timeout: int, params: dict | None = None) -> dict:
        """ccxt's cancelAllOrdersAfter (ccxt.NotSupported where the exchange has none)."""
        with self._answer("cancel_all_orders_after"):
            return to_decimals(self.client.cancel_all_orders_after(int(timeout), params or {}))

    def fetch_order(
        self, id: str | None, symbol: str | None = None, params: dict | None = None
    ) -> dict:
        if id is None and not self.client_order_ids:
            raise ccxt.NotSupported(
                f"{self.id} ({self.client.id}) keeps no client order ids: find the order by what "
                "was sent (bots.venues.order_lookup.find_order)"
            )
        with self._answer("fetch_order"):
            return to_decimals(self.client.fetch_order(id, symbol, params or {}))

    def fetch_open_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[dict]:
        with self._answer("fetch_open_orders"):
            return to_decimals(self.client.fetch_open_orders(symbol, since, limit))

    def fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[dict]:
        with self._answer("fetch_closed_orders"):
            return to_decimals(self.client.fetch_closed_orders(symbol, since, limit))

    def fetch_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[dict]:
        """Open and closed orders, oldest first from `since` where the exchange can be asked so."""
        with self._answer("fetch_orders"):
            params = self._oldest_first("fetch_orders", since)
            return to_decimals(self.client.fetch_orders(symbol, since, limit, params))

    def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[dict]:
        """The account's trades, each with an `id`: the venue's, or where it gives none one
        derived from the trade's order, time, side, price and amount (fill_identity.py)."""
        with self._answer("fetch_my_trades"):
            params = self._oldest_first("fetch_my_trades", since)
            trades = to_decimals(self.client.fetch_my_trades(symbol, since, limit, params))
        return with_ids(trades)

    # --- funds ----------------------------------------------------------------------------

    def withdraw(
        self, code: str, amount, address: str, tag: str | None = None, params: dict | None = None
    ) -> dict:
        """ccxt's withdraw: tag goes in params (ccxt 4 reads it there), the amount as exact text.

        A withdrawal the venue accepted without naming it cannot be told apart from one it never
        got, except by the client id in params (binance's withdrawOrderId): BadResponse.
        """
        params = dict(params or {})
        if tag:
            params["tag"] = tag
        if self.client.id in KIT_REFERENCES:
            # The kit keeps no client id for a withdrawal (a retry finds it by address and
            # amount: bots/treasury/withdrawals.py), so none is sent.
            params.pop("withdrawOrderId", None)
        stream_state.balance_moving(self.balance_key)
        with self._answer("withdraw"):
            result = to_decimals(self.client.withdraw(code, plain(dec(amount)), address, params))
        if result.get("id") is None and result.get("txid"):
            result = self._named_by_reference(code, result)
        if result.get("id") is None:
            raise ccxt.BadResponse(f"{self.id} accepted a withdrawal without giving its id: {result}")
        return result

    def _named_by_reference(self, code: str, answer: dict) -> dict:
        """HollaEx answers a withdrawal with the kit's own reference (its transaction_id, which
        ccxt reads as the txid) and no id: the withdrawals listing, where the reference stands
        until the network's hash replaces it, gives the id. If the listing cannot be read, the
        reference stands in for the id. Either way the reference is no transaction hash."""
        reference = answer["txid"]
        try:
            listed = self.fetch_withdrawals(code, limit=50)
        except ccxt.BaseError as exc:
            log.warning("%s: withdrawal %s not found in its listing: %s", self.id, reference, exc)
            listed = []
        found = next(
            (w for w in listed if isinstance(w, dict)
             and reference in (w.get("txid"), (w.get("info") or {}).get("transaction_id"))),
            None,
        )
        return {**(found or answer), "id": (found or {}).get("id") or reference, "txid": None}

    def fetch_deposit_address(self, code: str, params: dict | None = None) -> dict:
        """ccxt's fetchDepositAddress: {"currency", "network", "address", "tag", "info"}, the
        network asked in params ({"network": "TRC20"}). ccxt.NotSupported where the exchange
        offers none (ccxt emulates it from fetchDepositAddresses where it can: hollaex)."""
        with self._answer("fetch_deposit_address"):
            return to_decimals(self.client.fetch_deposit_address(code, params or {}))

    def fetch_withdrawals(
        self, code: str | None = None, since: int | None = None, limit: int | None = None,
        params: dict | None = None,
    ) -> list[dict]:
        with self._answer("fetch_withdrawals"):
            rows = to_decimals(self.client.fetch_withdrawals(code, since, limit, params or {}))
        if self.client.id in KIT_REFERENCES:
            # The kit lists a withdrawal under its own reference (a UUID) in transaction_id
            # until the network's hash replaces it; ccxt reads either as the txid. A reference
            # is no hash: it stays in info only.
            for row in rows:
                if isinstance(row, dict) and _is_uuid(row.get("txid")):
                    row["txid"] = None
        return rows

    def fetch_deposits(
        self, code: str | None = None, since: int | None = None, limit: int | None = None,
        params: dict | None = None,
    ) -> list[dict]:
        with self._answer("fetch_deposits"):
            return to_decimals(self.client.fetch_deposits(code, since, limit, params or {}))

    def fetch_currencies(self, params: dict | None = None) -> dict[str, dict]:
        """ccxt's currencies, read from the exchange now: per code its networks, each with its
        withdrawal fee, minimum and whether withdrawals are open (Decimals out).

        Chosen over fetch_deposit_withdraw_fees, which reads the same endpoints on binance and
        hollaex but keeps only the fee. An exchange that answers none (binance's ccxt class
        without API keys, or with options.fetchCurrencies off) is NotSupported, saying so.
        """
        with self._answer("fetch_currencies"):
            currencies = to_decimals(self.client.fetch_currencies(params or {}))
            for currency in currencies.values():
                with_networks(currency)
        if not currencies:
            raise ccxt.NotSupported(
                f"{self.id} ({self.client.id}) listed no currencies: ccxt reads them only where "
                "the exchange offers them (binance: with API keys and options.fetchCurrencies on)"
            )
        return currencies
