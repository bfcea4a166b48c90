"""The ids a log line is about (market, venue, fill, hedge, transfer), bound for a block of work.

    with log_context(market=market.slug, venue=venue.name):
        ...  # every log record made here, in this thread or task, carries both

The JSON log format (LOG_FORMAT=json, ballast/observability/json_logs.py) writes them as fields;
the plain format leaves them out. A context variable, so threads and asyncio tasks keep their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

FIELDS = ("market", "venue", "fill", "hedge", "transfer")
_bound: ContextVar[dict[str, object]] = ContextVar("ballast_log_context", default={})  # noqa: B039 - never mutated, replaced


@contextmanager
def log_context(**ids: object) -> Iterator[None]:
    unknown = set(ids) - set(FIELDS)
    if unknown:
        raise TypeError(f"log_context takes {', '.join(FIELDS)}, not {', '.join(sorted(unknown))}")
    token = _bound.set({**_bound.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _bound.reset(token)


def bound() -> dict[str, object]:
    return _bound.get()
