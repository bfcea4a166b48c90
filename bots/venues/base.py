"""The one interface through which Ballast reaches an exchange, shaped like ccxt's unified API.

Method names, arguments and the dicts they return are ccxt's; the exceptions are ccxt's own
classes (ccxt.InvalidOrder, ccxt.NetworkError, ...). The one difference: every price, amount, cost and fee is a Decimal,
never a float. Two implementations: CcxtVenue (any real exchange) and PaperVenue (Ballast's own
matching engine on database state).

Order params understood by both: clientOrderId (str), timeInForce ("GTC", "IOC", "PO"),
postOnly (bool). fetch_order accepts id=None with params={"clientOrderId": ...} where the venue
keeps client order ids (`client_order_ids`); where it does not, an order is found by what was
sent (bots/venues/order_lookup.py). Every trade from fetch_my_trades has an `id`: the venue's, or
one the adapter derived (bots/venues/fill_identity.py); None only when nothing could identify it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol


class Venue(Protocol):
    id: str  # the venue's name in Ballast
    has: dict  # what the venue offers, as ccxt's exchange.has: {"cancelAllOrdersAfter": True, ...}
    client_order_ids: bool  # whether an order can be found by the client order id it was sent with
    books_streamed: bool  # whether the stream process may keep its books (bots/venues/stream_state.py)
    # How many of the account's order requests one process may have in flight at once
    # (bots/venues/at_once.py): places and cancels made from several threads. 1: one at a time.
    requests_at_once: int

    def load_markets(self, reload: bool = False) -> dict[str, dict]: ...

    def market(self, symbol: str) -> dict: ...

    def fetch_order_book(self, symbol: str, limit: int | None = None) -> dict: ...

    def fetch_balance(self) -> dict: ...

    def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: Decimal,
        price: Decimal | None = None,
        params: dict | None = None,
    ) -> dict: ...

    def cancel_order(self, id: str, symbol: str | None = None, params: dict | None = None) -> dict: ...

    def fetch_open_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[dict]: ...

    def fetch_order(self, id: str | None, symbol: str | None = None, params: dict | None = None) -> dict: ...

    def cancel_all_orders_after(self, timeout: int, params: dict | None = None) -> dict:
        """The venue's dead man's switch, where `has["cancelAllOrdersAfter"]`: every open order
        of the account is cancelled `timeout` ms from now unless this is called again first;
        0 disarms it. ccxt.NotSupported where the venue has none."""
        ...

    def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[dict]: ...

    def fetch_deposit_address(self, code: str, params: dict | None = None) -> dict:
        """The account's own deposit address for `code` on the network in params ({"network":
        "BTC"}): {"currency", "network", "address", "tag", "info"}, as ccxt's
        fetchDepositAddress. ccxt.NotSupported where the venue cannot say it."""
        ...

    def fetch_currencies(self, params: dict | None = None) -> dict[str, dict]:
        """ccxt's currencies, read now: per code its `networks`, each with `fee`, `withdraw`
        (open or not), `precision` and `limits.withdraw.min`. The paper venue's are its
        WithdrawalNetwork rows; bots/treasury/network_facts.py reads them for the planner."""
        ...
