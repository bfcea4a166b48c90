"""What a request costs at an exchange, in the exchange's own units, and its limit per minute.

Binance counts request weight per IP and minute (6,000) and publishes a weight for each endpoint;
the table has those Ballast calls (REST API docs, "General API Information" and each endpoint's
"Weight", spot, 2025). Elsewhere a request weighs what ccxt's own cost table says, and the
limit is ccxt's `rateLimit` (milliseconds per unit of cost) turned into units per minute.
Plain Python: the bench counts what its stubs received with the same table.
"""

from __future__ import annotations

LIMIT_PER_MINUTE = {"binance": 6000}

# GET depth: by the `limit` asked (binance's default is 100).
DEPTH_WEIGHTS = ((100, 5), (500, 25), (1000, 50), (5000, 250))

BINANCE = {
    ("GET", "ping"): 1,
    ("GET", "time"): 1,
    ("GET", "exchangeInfo"): 20,
    ("GET", "ticker/bookTicker"): 2,
    ("GET", "account"): 20,
    ("GET", "order"): 4,
    ("GET", "allOrders"): 20,
    ("GET", "myTrades"): 20,
    ("POST", "order"): 1,
    ("DELETE", "order"): 1,
    ("DELETE", "openOrders"): 1,
}


def binance_weight(method: str, path: str, params: dict) -> int:
    """Binance's weight of one request; `path` without its /api/v3/ (or /sapi/v1/) prefix.
    Endpoints the table does not name weigh 1."""
    method = method.upper()
    if (method, path) == ("GET", "depth"):
        limit = int(params.get("limit") or 100)
        return next((weight for most, weight in DEPTH_WEIGHTS if limit <= most), 250)
    if (method, path) == ("GET", "openOrders"):
        return 6 if params.get("symbol") else 80
    if (method, path) == ("GET", "myTrades") and params.get("orderId"):
        return 5
    return BINANCE.get((method, path), 1)


def binance_weight_of_url(method: str, path: str, params: dict) -> int:
    """The same, from the path as it reaches the server (/api/v3/depth)."""
    for prefix in ("/api/v3/", "/sapi/v1/"):
        if path.startswith(prefix):
            return binance_weight(method, path.removeprefix(prefix), params)
    return 1
