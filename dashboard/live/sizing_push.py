"""Telling open sizing pages how a run is getting on: its state and progress bar."""

from __future__ import annotations

import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

SIZING_GROUP = "sizing"


def publish_sizing_progress(sender, run_id: int, status: dict, **kwargs) -> None:
    """Listener of `sizing_run_progressed` (wired in dashboard/apps.py)."""
    async_to_sync(get_channel_layer().group_send)(
        SIZING_GROUP, {"type": "sizing.progress", "run": run_id, "text": json.dumps(status)}
    )
