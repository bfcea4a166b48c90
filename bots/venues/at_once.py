"""Venue calls made at once rather than one after another: the orders a tick places or cancels.

A tick that replaces its quotes on a real exchange makes about 18 requests (its open orders,
8 placed, 8 cancelled); one after another they cost the sum of their round trips, at once about
the longest. How many of an account's requests one process may have in flight is the venue's to
say (`requests_at_once`): the ccxt adapter's kept client is safe to share between threads
(bots/venues/clients.py), each thread on a keep-alive connection of its own; the paper venue,
whose matching engine is database state, takes one at a time.

The requests of one wave share their bookkeeping (`Wave`): the first to reach the shared request
budget takes the weight of the whole wave in one Redis round trip, and the first order or cancel
counts the account's balance move for all (bots/venues/limiter.py, stream_state.balance_moving),
instead of two round trips per request.

Every call is waited for: when `each` returns, no request it started is still in flight, so the
caller records every answer, and an order whose answer never came stays "sending" for the next
tick to look up by its client order id.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_pool: tuple[int, int, ThreadPoolExecutor] | None = None  # (pid, width, pool)
_pool_lock = threading.Lock()


class Wave:
    """The calls of one wave, sent at once: what they do once for all of them."""

    def __init__(self, size: int):
        self.size = size
        self._lock = threading.Lock()
        self._done: set = set()
        self._credit: dict = {}

    def once(self, key, do: Callable[[], object]) -> None:
        """`do()` for the first call of the wave that asks under `key`; the others wait until
        it is done (it comes before any of their requests) and do nothing."""
        with self._lock:
            if key not in self._done:
                do()  # a failure leaves it to the next caller
                self._done.add(key)

    def share(self, key, weight: float, take: Callable[[float], None]) -> None:
        """Take `weight` through `take`: the first call takes for the whole wave (its weight
        times the wave's size, the calls of a wave being alike), later ones draw on that; one
        the rest cannot cover (a heavier request) takes its own."""
        with self._lock:
            credit = self._credit.get(key)
            if credit is None:
                take(weight * self.size)
                self._credit[key] = weight * (self.size - 1)
                return
            if credit >= weight:
                self._credit[key] = credit - weight
                return
        take(weight)


_wave: contextvars.ContextVar[Wave | None] = contextvars.ContextVar("ballast_venue_wave", default=None)


def current() -> Wave | None:
    """The wave the calling request belongs to, if it is sent at once with others."""
    return _wave.get()


def each(width: int, calls: Sequence[Callable[[], T]]) -> list[T | Exception]:
    """Run every call, at most `width` at once, and answer each one's result or the exception
    it raised, in the calls' order."""
    if width <= 1 or len(calls) <= 1:
        return [_outcome(call) for call in calls]
    # Each call runs in a copy of the caller's context: what it set for its requests (the
    # budget's priority for a hedge or a stop, bots/venues/limiter.py; the log context) holds
    # in the pool's threads too.
    pool = _executor(width)
    answers: list[T | Exception] = []
    for start in range(0, len(calls), width):  # the pool may be wider, made for another caller
        wave = calls[start:start + width]
        token = _wave.set(Wave(len(wave)))
        try:
            futures = [pool.submit(contextvars.copy_context().run, _outcome, call) for call in wave]
        finally:
            _wave.reset(token)
        answers += [future.result() for future in futures]
    return answers


def _outcome(call: Callable[[], T]) -> T | Exception:
    try:
        return call()
    except Exception as exc:  # handed to the caller, which records the answers before raising
        return exc


def _executor(width: int) -> ThreadPoolExecutor:
    """The process's pool, made on first use: a Celery worker's children are forked, and a
    pool made before the fork would have no threads in the child."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] < width:
            _pool = (os.getpid(), width, ThreadPoolExecutor(width, thread_name_prefix="venue-call"))
        return _pool[2]
