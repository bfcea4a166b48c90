"""The market page's websocket: logged-in users only, one group per market, coalesced pushes."""

from __future__ import annotations

import asyncio
import json
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from bots.models import Market

from .live import group_name

# However fast the engine runs, a page gets at most this many updates a second.
MAX_UPDATES_PER_SECOND = 4


@database_sync_to_async
def _market_id(slug: str) -> int | None:
    return Market.objects.filter(slug=slug).values_list("pk", flat=True).first()


class MarketConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept: the handshake is refused with 403
            return
        market_id = await _market_id(self.scope["url_route"]["kwargs"]["slug"])
        if market_id is None:
            await self.close()
            return
        self.group = group_name(market_id)
        self.latest: str | None = None
        self.last_sent = 0.0
        self.pending: asyncio.Task | None = None
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if getattr(self, "pending", None):
            self.pending.cancel()

    async def receive(self, text_data=None, bytes_data=None):
        # The page only listens; commands go through the views, which check roles and CSRF.
        await self.send(json.dumps({"error": "this socket takes no messages"}))

    async def market_update(self, event):
        self.latest = event["text"]
        if self.pending is not None:
            return  # a send is already scheduled and will carry this newer snapshot
        wait = self.last_sent + 1 / MAX_UPDATES_PER_SECOND - time.monotonic()
        if wait <= 0:
            await self._flush()
        else:
            self.pending = asyncio.create_task(self._flush_later(wait))

    async def _flush_later(self, wait: float):
        await asyncio.sleep(wait)
        self.pending = None
        await self._flush()

    async def _flush(self):
        text, self.latest = self.latest, None
        if text is not None:
            self.last_sent = time.monotonic()
            await self.send(text)
