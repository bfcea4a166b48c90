"""Beat's own heartbeat: the active beat stamps one Redis key on every tick of its scheduler
(ballast/beat.py); the watchdog process and the health checks read it (bots.desk.health).

In Redis, beside beat's schedule and its lock, since beat needs nothing else to run: a beat that
cannot reach Redis schedules nothing, and its heartbeat goes old with it. Only the beat holding
the lock ticks, so a standby waiting for the lock never stamps it.
"""

from __future__ import annotations

import json
import time

import redis

KEY = "ballast:beat:heartbeat"


def stamp(client: redis.Redis, hostname: str, now: float | None = None) -> None:
    client.set(KEY, json.dumps({"at": time.time() if now is None else now, "hostname": hostname}))


def read(client: redis.Redis) -> tuple[float, str] | None:
    """(unix time of the last tick, which beat ticked), or None when no beat ever ticked."""
    raw = client.get(KEY)
    if raw is None:
        return None
    mark = json.loads(raw)
    return float(mark["at"]), str(mark.get("hostname", ""))
