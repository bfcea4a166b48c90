"""Telling open rebalance panels that a proposal appeared or changed.

The message is only a nudge (which proposal, when): each panel then asks for its own fresh
HTML over HTTP, so what an operator sees is rendered for that operator's role, CSRF token and
all. The consumer coalesces bursts like the market pages' do.
"""

from __future__ import annotations

import json
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

REBALANCE_GROUP = "rebalance"


def on_proposal_changed(sender, proposal_id: int | None, **kwargs) -> None:
    """Listener of `proposal_changed` (wired in dashboard/apps.py)."""
    publish_rebalance(proposal_id)


def publish_rebalance(proposal_id: int | None) -> None:
    text = json.dumps({"proposal": proposal_id, "at": int(time.time() * 1000)})
    async_to_sync(get_channel_layer().group_send)(
        REBALANCE_GROUP, {"type": "rebalance.update", "text": text}
    )
