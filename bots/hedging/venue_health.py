"""Which venues failed lately, shared by every process through Redis.

A hedge venue that raised an error is left out of routing for a while when another venue can
take the hedge; the mark expires by itself, so the venue is tried again once it may have
recovered. With a single hedge venue nothing is skipped: the hedge retries there with backoff.
"""

from __future__ import annotations

from collections.abc import Iterable

from bots.platform.locks import client

DOWN_SECONDS = 10


def _key(venue_id: int) -> str:
    return f"ballast:venue-down:{venue_id}"


def mark_down(venue_id: int, reason: str, seconds: float = DOWN_SECONDS) -> None:
    client().set(_key(venue_id), reason[:300], px=int(seconds * 1000))


def down(venue_ids: Iterable[int]) -> dict[int, str]:
    """The venues among `venue_ids` marked down, with the error that marked them."""
    ids = list(venue_ids)
    if not ids:
        return {}
    reasons = client().mget([_key(i) for i in ids])
    return {i: r.decode() for i, r in zip(ids, reasons, strict=True) if r is not None}
