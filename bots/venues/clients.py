"""ccxt clients kept for the life of the process: one per venue account, shared by its threads.

Building a ccxt client per call (each tick, health sample and page push) reloaded the
exchange's markets every time and left ccxt's pacing nothing to pace. Here:

- one client per venue and account, kept until the account's keys or the venue's options change
  (their fingerprint is part of the key), shared by Celery's and Daphne's threads; an account
  with a separate withdrawal key has a second client for it (`purpose` "withdraw");
- markets loaded once, refreshed hourly, under a lock so that threads do not load them together
  (ccxt's requests themselves are safe to make from several threads at once);
- `adjustForTimeDifference` on: signed requests carry the exchange's time, measured as markets
  load; an `InvalidNonce` answer measures it again and retries once, and when that fails too,
  or the host's clock is off by more than CLOCK_SKEW_ALERT_MS, an alert names the venue and the
  offset (resolved when requests succeed again with the clock in line); the error is then not
  transient (bots.venues.errors), so no caller retries it forever;
- every request through the shared request budget (bots.venues.limiter), weighed as the
  exchange weighs it; ccxt's own pacing, which knows only its process, is off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from urllib.parse import urlsplit

import ccxt

from bots.platform import events
from bots.venues import limiter, request_weights, transport

log = logging.getLogger(__name__)

MARKETS_SECONDS = 3600
CLOCK_SKEW_ALERT_MS = 1000

_kept: dict[tuple[str, int, str], tuple[str, KeptClient]] = {}
_kept_lock = threading.Lock()


def build_client(name: str, exchange_id: str, options: dict | None, credentials: dict | None,
                 sandbox: bool = False):
    # getattr(ccxt, ...) would also accept "Exchange", "BadRequest" or a helper function.
    if exchange_id not in ccxt.exchanges:
        raise ccxt.BadRequest(
            f"Venue {name!r}: {exchange_id!r} is not a ccxt exchange id "
            f"(ccxt {ccxt.__version__} knows {len(ccxt.exchanges)}, e.g. binance, kraken, okx)"
        )
    config = {"timeout": 10000, **(options or {}), **(credentials or {})}
    # The shared budget paces requests (unless the options say enableRateLimit: false);
    # ccxt's own pacing would add its sleeps on top.
    config["enableRateLimit"] = False
    config["options"] = {"adjustForTimeDifference": True, **config.get("options", {})}
    client = getattr(ccxt, exchange_id)(config)
    if not client.requests_trust_env:  # proxies from the environment are requests' to find
        client.session.close()
        client.session = transport.Session()  # requests' interface, a third less CPU a request
    if sandbox:
        # ccxt swaps its urls for the exchange's testnet ones; a URL override (a stub) still wins.
        client.set_sandbox_mode(True)
        if config.get("urls"):
            client.urls = client.deep_extend(client.urls, config["urls"])
    _require_json(client)
    return client


def _require_json(client) -> None:
    """Make a successful answer whose body is not JSON an error.

    ccxt hands such a body (a truncated answer, a proxy's HTML page) to the exchange's parser as
    text, and for most methods that yields an empty result: an empty book, a balance of nothing.
    on_rest_response is ccxt's hook for every HTTP answer, before its own error handling.
    """
    lenient = client.on_rest_response

    def on_rest_response(code, reason, url, method, headers, body, *request):
        body = lenient(code, reason, url, method, headers, body, *request)
        if 200 <= code < 300 and body:
            try:
                json.loads(body)
            except ValueError as exc:
                raise ccxt.BadResponse(
                    f"{client.id} answered {method} {url.split('?')[0]} with HTTP {code} "
                    f"and a body that is not JSON: {body[:200]!r}"
                ) from exc
        return body

    client.on_rest_response = on_rest_response


def fingerprint(exchange_id: str, options: dict | None, credentials: dict | None) -> str:
    text = json.dumps([exchange_id, options or {}, credentials or {}], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def client_fingerprint(venue, credentials: dict | None) -> str:
    """What a kept client of this venue (a Venue row) with these keys is known by."""
    sandbox = bool(getattr(venue, "sandbox", False))
    return fingerprint(venue.exchange_id, venue.options, credentials) + ("-sandbox" if sandbox else "")


def kept_client(venue, account_id: int, credentials: dict, purpose: str = "trade") -> KeptClient:
    """The process's client for this account at this venue (a Venue row), built on first use
    and again when the keys or options changed. `purpose` keeps the account's withdrawal key's
    client apart from its trading key's, so that using one does not rebuild the other."""
    key = (venue.name, account_id, purpose)
    sandbox = bool(getattr(venue, "sandbox", False))
    print_ = client_fingerprint(venue, credentials)
    with _kept_lock:
        found = _kept.get(key)
        if found is None or found[0] != print_:
            client = KeptClient(venue.name, venue.exchange_id, venue.options, credentials,
                                label=venue.label, alerts=True, sandbox=sandbox)
            client.fingerprint = print_
            found = _kept[key] = (print_, client)
        return found[1]


def forget_clients() -> None:
    """Drop every kept client (tests; a process that must reload everything)."""
    with _kept_lock:
        _kept.clear()


class KeptClient:
    """A ccxt client with its markets, its clock and its share of the request budget."""

    def __init__(self, name: str, exchange_id: str, options: dict | None,
                 credentials: dict | None, label: str = "", alerts: bool = False,
                 sandbox: bool = False):
        self.name, self.label = name, label or name
        self.fingerprint = ""  # of the account's keys and the venue's options, when kept for one
        self.client = build_client(name, exchange_id, options, credentials, sandbox)
        self.budget = budget_for(self.client, self.label)
        # ccxt's switch for pacing now switches the shared budget (off: tests against stubs).
        self.paced = bool((options or {}).get("enableRateLimit", True))
        self._alerts = alerts  # only a venue with a row has alerts to raise
        self._clock_alert = alerts  # one may be open from before this process: resolve it once
        self._lock = threading.Lock()
        self._loaded_at: float | None = None
        self.markets_loads = 0
        self.raw_markets: dict | None = None
        self._decimal: tuple[dict | None, dict] = (None, {})
        self._send, self.client.fetch2 = self.client.fetch2, self._fetch2
        # ccxt's own methods load markets too (fetch_balance, create_order): the same way.
        self._load, self.client.load_markets = self.client.load_markets, self._ccxt_load_markets
        # Measured as markets load (adjustForTimeDifference): a venue that cannot say its time
        # must not keep its markets from loading.
        self._measure, self.client.load_time_difference = (
            self.client.load_time_difference, self._measure_clock
        )

    # --- markets ----------------------------------------------------------------------------

    def load_markets(self, reload: bool = False) -> dict:
        """ccxt's markets, loaded once and again after MARKETS_SECONDS (or when asked)."""
        stale = self._loaded_at is None or time.monotonic() - self._loaded_at > MARKETS_SECONDS
        if stale or reload:
            with self._lock:
                # Another thread may have loaded them while this one waited.
                stale = self._loaded_at is None or time.monotonic() - self._loaded_at > MARKETS_SECONDS
                if stale or reload:
                    self.raw_markets = self._load(True)
                    self._loaded_at = time.monotonic()
                    self.markets_loads += 1
                    self._check_clock()
        return self.raw_markets

    def _ccxt_load_markets(self, reload=False, params=None):
        return self.load_markets(reload)

    def converted_markets(self, convert, reload: bool = False) -> dict:
        """The markets, each through `convert` once per load (every thread shares the result)."""
        raw = self.load_markets(reload)
        converted_from, converted = self._decimal
        if raw is not converted_from:
            converted = {symbol: convert(market) for symbol, market in raw.items()}
            self._decimal = (raw, converted)
        return converted

    # --- requests ---------------------------------------------------------------------------

    def _fetch2(self, path, api="public", method="GET", params=None, config=None):
        params, config = params or {}, config or {}
        try:
            answer = self._limited(path, api, method, params, config)
        except ccxt.InvalidNonce as first:
            if path == "time":
                raise
            offset = self._resync()
            log.warning("%s refused a request's time (%s); clock resynced (%s ms), once more",
                        self.label, first, offset)
            try:
                answer = self._limited(path, api, method, params, config)
            except ccxt.InvalidNonce as exc:
                self._raise_clock_alert(
                    f"{self.label} refuses this host's request times (InvalidNonce: {exc}) even "
                    f"after Ballast measured the exchange's clock again (this host's clock: "
                    f"{_offset_text(self._offset())} the exchange's). Fix the host's time sync "
                    f"(NTP): signed requests to {self.label} (orders, balances) fail until then."
                )
                raise
        # A signed request went through: the exchange takes this host's times again.
        signed = path != "time" and "public" not in str(api)
        if signed and self._clock_alert and abs(self._offset() or 0) <= CLOCK_SKEW_ALERT_MS:
            self._resolve_clock_alert()
        return answer

    def _limited(self, path, api, method, params, config):
        if self.paced:
            weight = self.weight(path, api, method, params, config)
            self.budget.take(weight, cancel=method == "DELETE")
            events.request_weight_used.emit(venue=self.name, weight=weight)
        return self._send(path, api, method, params, config)

    def weight(self, path, api, method, params, config) -> float:
        return weight_of(self.client, path, api, method, params, config)

    # --- the clock --------------------------------------------------------------------------

    def _offset(self) -> int | None:
        """How far this host's clock is ahead of the exchange's, in ms, as last measured."""
        value = self.client.options.get("timeDifference")
        return int(value) if value is not None else None

    def _measure_clock(self, params=None):
        try:
            self._measure(params or {})
        except (ccxt.NotSupported, ccxt.ExchangeError, ccxt.NetworkError) as exc:
            log.warning("%s: its clock could not be measured: %s", self.label, exc)
        return self._offset()

    def _resync(self) -> int | None:
        return self.client.load_time_difference()

    def _check_clock(self) -> None:
        offset = self._offset()
        if offset is not None and abs(offset) > CLOCK_SKEW_ALERT_MS:
            self._raise_clock_alert(
                f"This host's clock is {_offset_text(offset)} {self.label}'s. Ballast corrects "
                f"its signed requests for it (adjustForTimeDifference), but fills' and books' "
                f"ages are judged by this clock: fix the host's time sync (NTP)."
            )

    def _raise_clock_alert(self, message: str) -> None:
        log.error("%s", message)
        if not self._alerts:
            return
        events.venue_clock_off.emit(venue=self.name, message=message)
        self._clock_alert = True

    def _resolve_clock_alert(self) -> None:
        self._clock_alert = False
        events.venue_clock_ok.emit(venue=self.name)


def _offset_text(offset: int | None) -> str:
    if offset is None:
        return "off (by an amount the exchange does not let Ballast measure) from"
    return f"{abs(offset)} ms {'ahead of' if offset >= 0 else 'behind'}"


def weight_of(client, path, api, method, params, config) -> float:
    """A request's weight as the exchange counts it (binance's published weights, else ccxt's)."""
    if client.id == "binance":
        return request_weights.binance_weight(method, path, params)
    return client.calculate_rate_limiter_cost(api, method, path, params, config)


def budget_for(client, label: str) -> limiter.RequestBudget:
    """One budget per exchange and API host: the limits are per IP address."""
    api = client.urls.get("api")
    if isinstance(api, dict):
        urls = [api.get("public"), api.get("rest"), *api.values()]
        url = next((u for u in urls if isinstance(u, str)), "")
    else:
        url = api if isinstance(api, str) else ""
    host = urlsplit(url).netloc or client.id
    per_minute = request_weights.LIMIT_PER_MINUTE.get(client.id) or 60000 / client.rateLimit
    return limiter.RequestBudget(f"{client.id}:{host}", per_minute, f"{label} ({host})")
