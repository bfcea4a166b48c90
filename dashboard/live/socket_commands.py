"""Operator commands over a market page's websocket: the same commands as the page's buttons.

A message is JSON, {"command": "pause", "reason": "..."}, with one of the commands below. The
answer is {"reply": {"ok": "..."}} or {"reply": {"error": "..."}}; a malformed message, an
unknown command or a missing role changes nothing and says why. Whatever a message holds, the
socket stays open: an error in handling it is answered, never left to close the consumer.
"""

from __future__ import annotations

import json
import logging

from channels.db import database_sync_to_async

from bots.desk.roles import OPERATOR, has_role
from bots.market_making import operator_commands
from bots.models import Market
from dashboard.market_making.controls_views import DESK_COMMANDS, MARKET_COMMANDS

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
USAGE = 'Send JSON like {"command": "pause", "reason": "why"}'


def _parse(text: str | None) -> tuple[str, str] | str:
    """(command, reason), or the message explaining what is wrong."""
    if not text or len(text) > MAX_MESSAGE_CHARS:
        return f"{USAGE}, under {MAX_MESSAGE_CHARS} characters."
    try:
        message = json.loads(text)
    except ValueError:
        return f"That is not JSON. {USAGE}."
    except RecursionError:  # e.g. 2,000 "[": deeper than the parser goes
        return f"That JSON is nested too deep. {USAGE}."
    if not isinstance(message, dict):
        return f"{USAGE}."
    command, reason = message.get("command"), message.get("reason", "")
    known = [*MARKET_COMMANDS, *DESK_COMMANDS]
    if command not in known:
        return f"Unknown command {command!r}: use one of {', '.join(known)}."
    if not isinstance(reason, str):
        return "The reason must be text."
    return command, reason


@database_sync_to_async
def _run(user, slug: str, command: str, reason: str) -> dict:
    if not has_role(user, OPERATOR):
        return {"error": "This needs the operator role."}
    try:
        if command in DESK_COMMANDS:
            outcome = DESK_COMMANDS[command](reason=reason, user=user)
        else:
            market = Market.objects.select_related(
                "mm_account__venue", "hedge_account__venue"
            ).get(slug=slug)
            outcome = MARKET_COMMANDS[command](market, reason=reason, user=user)
    except operator_commands.CommandRefused as exc:
        return {"error": str(exc)}
    except Market.DoesNotExist:
        return {"error": "This market no longer exists."}
    return {"ok": outcome.message}


async def handle(consumer, text_data: str | None) -> None:
    try:
        parsed = _parse(text_data)
        if isinstance(parsed, str):
            reply = {"error": parsed}
        else:
            slug = consumer.scope["url_route"]["kwargs"]["slug"]
            reply = await _run(consumer.scope["user"], slug, *parsed)
    except Exception:  # an answer, not a closed socket, whatever went wrong
        log.exception("a socket message could not be handled")
        reply = {"error": "That message could not be handled: the error is logged for the desk."}
    await consumer.send(json.dumps({"reply": reply}))
