"""One request budget per exchange host, shared by every Ballast process through Redis.

Exchanges limit requests per IP address (Binance: 6,000 request weight a minute), and every
worker, Daphne and the stream process of this desk reach an exchange from the same address, so
each process pacing itself (ccxt's enableRateLimit) cannot keep the sum under the limit. Here a
token bucket in Redis, one per exchange host, holds the budget:

- its size: BALLAST_REQUEST_BUDGET_SHARE of the exchange's limit a minute (request_weights),
  of which a burst of ten seconds' worth may go at once; the bucket refills at the rest, so no
  sixty seconds ever carry more than the budget;
- hedges and stops first: the last BALLAST_HEDGE_RESERVE_SHARE of the burst is theirs; other
  requests wait while the bucket is below it, and when both wait a hedge's turn comes first;
- bounded waits: a request that would wait more than BALLAST_REQUEST_WAIT_SECONDS raises
  RequestBudgetExhausted, a ccxt.RateLimitExceeded, so callers treat it as transient and retry
  later, with the budget and the wait in its message;
- Redis down: cancels and stop commands go through unlimited (logged), since a stop must not
  wait for Redis; other requests raise RequestBudgetUnavailable (transient).
"""

from __future__ import annotations

import contextvars
import logging
import time
from contextlib import contextmanager

import redis
from django.conf import settings

from bots.platform import locks
from bots.venues import at_once
from bots.venues import ccxt_errors as ccxt  # ccxt's exception classes, without its exchanges

log = logging.getLogger(__name__)

NORMAL, HEDGE, STOP = "normal", "hedge", "stop"
BURST_SECONDS = 10  # of the budget that may go at once
KEY_SECONDS = 120  # an idle bucket is full again long before its key expires

_priority = contextvars.ContextVar("ballast_request_priority", default=NORMAL)


class RequestBudgetExhausted(ccxt.RateLimitExceeded):
    """The shared budget stayed used up longer than a request may wait: retry later."""


class RequestBudgetUnavailable(ccxt.NetworkError):
    """Redis is unreachable, so the shared budget cannot be checked: retry once it is back."""


@contextmanager
def priority(level: str):
    """Requests made inside (in this thread or task) are hedges (HEDGE) or part of an operator's
    stop (STOP): both may use the reserve, and a stop's requests go through with Redis down."""
    token = _priority.set(level)
    try:
        yield
    finally:
        _priority.reset(token)


def current_priority() -> str:
    return _priority.get()


# tokens and the time they were counted, refilled at `rate` a second up to `capacity`; a request
# of `weight` passes when `floor` tokens would be left (0 for hedges, the reserve for the rest).
# Answers the seconds to wait, "0" when the tokens were taken. Redis's clock is every process's.
_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local weight, floor = tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local need = math.min(weight + floor, capacity)
local wait = 0
if tokens >= need then
  tokens = tokens - weight
else
  wait = (need - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return tostring(wait)
"""

_redis: tuple[str, redis.Redis, object] | None = None


def _script():
    """The script on a client of its own: short timeouts, so a Redis that hangs costs a request
    half a second, not a TCP timeout (the locks' client waits as long as it takes)."""
    global _redis
    if _redis is None or _redis[0] != settings.REDIS_URL:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=locks.PING_SECONDS,
            socket_timeout=locks.PING_SECONDS,
        )
        _redis = (settings.REDIS_URL, client, client.register_script(_TAKE))
    return _redis[2]


class RequestBudget:
    """The budget of one exchange host: `per_minute` units of the exchange's weight."""

    def __init__(self, key: str, per_minute: float, label: str):
        self.key = f"ballast:budget:{key}"
        self.per_minute = per_minute
        self.label = label

    def sizes(self) -> tuple[float, float, float]:
        """Refill a second, burst capacity, and the reserve only hedges and stops may use."""
        budget = self.per_minute * settings.REQUEST_BUDGET_SHARE
        capacity = budget * BURST_SECONDS / 60
        rate = (budget - capacity) / 60
        return rate, capacity, capacity * settings.HEDGE_RESERVE_SHARE

    def take(self, weight: float, cancel: bool = False) -> None:
        """Wait for `weight` of the budget, within BALLAST_REQUEST_WAIT_SECONDS. A request sent
        at once with others (bots/venues/at_once.py) takes with them: the first takes the
        wave's summed weight in one round trip."""
        wave = at_once.current()
        if wave is None or wave.size <= 1:
            self._take(weight, cancel)
        else:
            wave.share(self.key, weight, lambda w: self._take(w, cancel))

    def _take(self, weight: float, cancel: bool) -> None:
        level = _priority.get()
        rate, capacity, reserve = self.sizes()
        floor = 0 if level in (HEDGE, STOP) else reserve
        limit = settings.REQUEST_WAIT_SECONDS
        deadline = time.monotonic() + limit
        while True:
            known = locks.known_down()
            try:
                if known:
                    raise redis.ConnectionError("found down moments ago")
                wait = float(_script()(keys=[self.key], args=[rate, capacity, weight, floor, KEY_SECONDS]))
            except locks.DOWN as exc:
                # Only a real answer marks Redis down again: re-marking on what was already
                # known kept several streams retrying in turn inside one another's window, so
                # none asked Redis again after it came back.
                if not known:
                    locks.mark_down()
                if cancel or level == STOP:
                    log.warning("Redis is unreachable: a %s request to %s goes without the shared "
                                "budget", "cancel" if cancel else "stop", self.label)
                    return
                raise RequestBudgetUnavailable(
                    f"{self.label}: Redis is unreachable, so the request budget shared by every "
                    f"Ballast process cannot be checked ({exc}); retry once Redis is back"
                ) from exc
            if wait <= 0:
                return
            left = deadline - time.monotonic()
            if wait > left:
                raise RequestBudgetExhausted(
                    f"{self.label}: the request budget ({self.per_minute * settings.REQUEST_BUDGET_SHARE:.0f} "
                    f"a minute, shared by every Ballast process) is used up: a request of weight "
                    f"{weight:g} ({level}) would wait {wait:.1f} s, more than the {limit:g} s allowed "
                    "(BALLAST_REQUEST_WAIT_SECONDS); retry later"
                )
            # Pacing, not retrying: the bucket said how long until there is room.
            log.info("%s: a %s request waits %.2f s for the request budget", self.label, level, wait)
            time.sleep(wait)
