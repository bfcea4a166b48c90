"""Pushing the overview's rows to every open overview after each round of health samples."""

from __future__ import annotations

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from dashboard.desk.overview_views import overview_fragment

OVERVIEW_GROUP = "overview"


def on_markets_graded(sender, **kwargs) -> None:
    """Listener of `markets_graded` (wired in dashboard/apps.py)."""
    publish_overview()


def publish_overview() -> int:
    """Push the overview's rows to every open overview; returns the stamp (ms) they carry, which
    the page and the fan-out bench read as the moment the event left."""
    stamp = int(time.time() * 1000)
    text = overview_fragment(stamp)
    async_to_sync(get_channel_layer().group_send)(
        OVERVIEW_GROUP, {"type": "overview.update", "text": text}
    )
    return stamp
