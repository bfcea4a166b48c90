"""Locks in Redis that keep one market's work from running twice at once, in any process."""

from __future__ import annotations

from contextlib import contextmanager

import redis
from django.conf import settings

_client: redis.Redis | None = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


@contextmanager
def market_lock(name: str, market_id: int, expire_seconds: float = 30, wait_seconds: float = 0):
    """Yield True when this process holds the lock, False when another one does.

    The expiry frees the lock of a worker that died holding it; a tick takes far less.
    `wait_seconds` waits that long for a holder to finish (operator commands wait out a tick).
    """
    lock = client().lock(
        f"ballast:{name}:{market_id}",
        timeout=expire_seconds,
        blocking=wait_seconds > 0,
        blocking_timeout=wait_seconds or None,
    )
    acquired = lock.acquire()
    try:
        yield acquired
    finally:
        if acquired:
            try:
                lock.release()
            except redis.exceptions.LockNotOwnedError:
                pass  # it expired first; the next holder already has it


def throttle(key: str, milliseconds: int) -> bool:
    """True at most once per `milliseconds` for `key`, across all processes."""
    return bool(client().set(f"ballast:throttle:{key}", 1, nx=True, px=milliseconds))
