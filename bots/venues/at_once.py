"""Venue calls made at once rather than one after another: the orders a tick places or cancels.

A tick that replaces its quotes on a real exchange makes about 18 requests (its open orders,
8 placed, 8 cancelled); one after another they cost the sum of their round trips, at once about
the longest. How many of an account's requests one process may have in flight is the venue's to
say (`requests_at_once`): the ccxt adapter's kept client is safe to share between threads
(bots/venues/clients.py), each thread on a keep-alive connection of its own; the paper venue,
whose matching engine is database state, takes one at a time.

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
        futures = [pool.submit(contextvars.copy_context().run, _outcome, call)
                   for call in calls[start:start + width]]
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
