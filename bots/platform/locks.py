"""Locks in Redis that keep one market's work from running twice at once, in any process."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager

import redis
from django.conf import settings

log = logging.getLogger(__name__)

_client: redis.Redis | None = None

# How long an operator command waits to learn whether Redis answers, and how long a Redis found
# down is taken as down without asking again (the desk's kill switch asks once per market).
PING_SECONDS = 0.5
DOWN_SECONDS = 5.0
_down_until = 0.0
# What a Redis that is down or hangs raises.
DOWN = (redis.ConnectionError, redis.TimeoutError)


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def reachable() -> bool:
    """Whether Redis answers within PING_SECONDS: a Redis that is down, or hangs, costs a stop
    command half a second, never a TCP timeout."""
    global _down_until
    if time.monotonic() < _down_until:
        return False
    probe = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=PING_SECONDS, socket_timeout=PING_SECONDS
    )
    try:
        return bool(probe.ping())
    except (redis.RedisError, OSError):
        _down_until = time.monotonic() + DOWN_SECONDS
        return False
    finally:
        probe.close()


def known_down() -> bool:
    """Whether Redis was found down in the last DOWN_SECONDS (without asking it again)."""
    return time.monotonic() < _down_until


def mark_down() -> None:
    """A caller found Redis down: reachable() says so for DOWN_SECONDS without asking."""
    global _down_until
    _down_until = time.monotonic() + DOWN_SECONDS


def forget_unreachable() -> None:
    """Ask Redis again at the next reachable(), e.g. once it was restarted."""
    global _down_until
    _down_until = 0.0


@contextmanager
def market_lock(
    name: str, market_id: int, expire_seconds: float = 30, wait_seconds: float = 0,
    unreachable_ok: bool = False,
):
    """Yield True when this process holds the lock, False when another one does.

    The expiry frees the lock of a worker that died holding it; a tick takes far less.
    `wait_seconds` waits that long for a holder to finish (operator commands wait out a tick).
    With `unreachable_ok`, a Redis that is down yields False (logged) instead of raising: for
    work that is safe to do twice, such as cancelling orders, and must not wait for Redis.
    """
    if unreachable_ok and not reachable():
        log.warning("Redis is unreachable: %s of market %s goes on unlocked", name, market_id)
        yield False
        return
    lock = client().lock(
        f"ballast:{name}:{market_id}",
        timeout=expire_seconds,
        blocking=wait_seconds > 0,
        blocking_timeout=wait_seconds or None,
    )
    try:
        acquired = lock.acquire()
    except DOWN:
        if not unreachable_ok:
            raise
        log.warning("Redis went away: %s of market %s goes on without its lock", name, market_id)
        acquired = False
    try:
        yield acquired
    finally:
        if acquired:
            try:
                lock.release()
            except redis.exceptions.LockNotOwnedError:
                pass  # it expired first; the next holder already has it
            except DOWN:
                if not unreachable_ok:
                    raise
                log.warning("Redis went away: the %s lock of %s expires by itself", name, market_id)


def throttle(key: str, milliseconds: int) -> bool:
    """True at most once per `milliseconds` for `key`, across all processes."""
    return bool(client().set(f"ballast:throttle:{key}", 1, nx=True, px=milliseconds))


# --- asking a lock's holder to run once more ---------------------------------------------------
# Work that finds its market's lock held may come with news the holder read too early (a tick
# queued by a book move, while a tick that read the book before the move runs): instead of
# being dropped, it asks the holder to run once more when done. One ask stands for any number.


def _again_key(name: str, market_id: int) -> str:
    return f"ballast:{name}-again:{market_id}"


def ask_again(name: str, market_id: int, expire_seconds: float = 30) -> bool:
    """Ask whoever holds the market's `name` lock to run once more when done. True when the
    lock is free by now: its holder may have finished before the ask, so the caller takes the
    ask back itself (`asked_again`) and runs. The lock is looked at after the ask is written, so
    one of the two sees it."""
    redis_client = client()
    redis_client.set(_again_key(name, market_id), 1, px=int(expire_seconds * 1000))
    return not redis_client.exists(f"ballast:{name}:{market_id}")


def asked_again(name: str, market_id: int) -> bool:
    """Whether a run was asked for since the last answer, taking the ask (GETDEL: of a holder
    and an asker who both look, one answers it). A holder looks after releasing the lock."""
    return client().getdel(_again_key(name, market_id)) is not None
