"""The desk's websockets (a market page, the overview): logged-in users only, one group each,
coalesced pushes."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from bots.desk import two_factor
from bots.models import Market
from bots.platform.locks import DOWN
from dashboard.live import socket_commands
from dashboard.live.overview_push import OVERVIEW_GROUP
from dashboard.live.publisher import group_name
from dashboard.live.rebalance_push import REBALANCE_GROUP
from dashboard.live.sizing_push import SIZING_GROUP

log = logging.getLogger(__name__)

# However fast the engine runs, a page gets at most this many updates a second.
MAX_UPDATES_PER_SECOND = 4


@database_sync_to_async
def _market_id(slug: str) -> int | None:
    return Market.objects.filter(slug=slug).values_list("pk", flat=True).first()


class CoalescingConsumer(AsyncWebsocketConsumer):
    """A page's live feed: logged-in users only, one group, at most MAX_UPDATES_PER_SECOND sends.

    Subclasses name the group in group_for(), and the event type they push in push_event (or
    route it to push() from a handler of their own).
    """

    # The event type workers send to the group, e.g. "overview.update"; its "text" is pushed.
    push_event = ""

    async def group_for(self) -> str | None:
        raise NotImplementedError

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, through the one
        # thread all of Django's sync code shares; a push fanned out to 500 pages would queue
        # 500 hops there (measured: most of a fan-out's time). A push touches no database.
        if self.push_event and message["type"] == self.push_event:
            await self.push(message)
        else:
            await super().dispatch(message)

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept: the handshake is refused with 403
            return
        if not await database_sync_to_async(_two_factor_done)(user, self.scope.get("session")):
            await self.close()  # a password alone opens no live page of an operator or admin
            return
        group = await self.group_for()
        if group is None:
            await self.close()
            return
        self.group = group
        self.latest: str | None = None
        self.last_sent = 0.0
        self.pending: asyncio.Task | None = None
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except (*DOWN, OSError):  # Redis is down: its group entries go with it
                log.warning("left %s without Redis", self.group)
        if getattr(self, "pending", None):
            self.pending.cancel()

    async def receive(self, text_data=None, bytes_data=None):
        # The page only listens; commands go through the views, which check roles and CSRF.
        await self.send(json.dumps({"error": "this socket takes no messages"}))

    async def push(self, event):
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


class MarketConsumer(CoalescingConsumer):
    push_event = "market.update"

    async def group_for(self) -> str | None:
        market_id = await _market_id(self.scope["url_route"]["kwargs"]["slug"])
        return None if market_id is None else group_name(market_id)

    async def receive(self, text_data=None, bytes_data=None):
        # Operator commands, checked for role and shape there (bots.market_making.operator_commands runs them).
        await socket_commands.handle(self, text_data)


class OverviewConsumer(CoalescingConsumer):
    """Every market's row of the overview, as HTML the page swaps in (htmx's ws extension)."""

    push_event = "overview.update"

    async def group_for(self) -> str | None:
        return OVERVIEW_GROUP


class RebalanceConsumer(CoalescingConsumer):
    """The rebalance panel's nudges: a proposal appeared or changed (dashboard.live.rebalance_push)."""

    async def group_for(self) -> str | None:

        return REBALANCE_GROUP

    async def rebalance_update(self, event):
        await self.push(event)


class SizingConsumer(CoalescingConsumer):
    """The sizing page's progress bars (bots.simulation.sizing_runs.publish). Coalesced per run, so a run's
    last message (done, failed) is never dropped for another market's progress."""

    push_event = "sizing.progress"

    async def group_for(self) -> str | None:

        self.waiting: dict[int, str] = {}
        return SIZING_GROUP

    async def push(self, event):
        self.waiting[event["run"]] = event["text"]
        await super().push(event)

    async def _flush(self):
        waiting, self.waiting, self.latest = self.waiting, {}, None
        if waiting:
            self.last_sent = time.monotonic()
            for text in waiting.values():
                await self.send(text)


def _two_factor_done(user, session) -> bool:
    return not two_factor.needs_two_factor(user) or two_factor.verified_in(user, session)
