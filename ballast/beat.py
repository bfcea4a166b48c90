"""Celery beat's scheduler: celery-redbeat's, which keeps the schedule in Redis and lets one beat
at a time run it (a Redis lock taken in beat_init and extended on every tick), plus beat's own
heartbeat stamped on each tick.

Run two or more beats: the others wait for the lock; when the active one dies, its lock expires
after BALLAST_BEAT_LOCK_SECONDS and one of them takes over, each entry's last run read back from
Redis, so nothing is sent twice. Settings: CELERY_BEAT_SCHEDULER and CELERY_REDBEAT_*.
"""

from __future__ import annotations

import os
import socket

from redbeat import RedBeatScheduler
from redbeat.schedulers import get_redis

from bots.platform import beat_heartbeat


class Scheduler(RedBeatScheduler):
    def __init__(self, app, *args, **kwargs):
        # redbeat finds CELERY_REDBEAT_REDIS_URL through the namespace, but warns that it is unset
        # unless the setting is also spelled without it.
        app.conf["redbeat_redis_url"] = app.conf.first("redbeat_redis_url")
        # Its redis-py client takes no options of ours; left unset, redbeat would fall back to the
        # broker's transport options (kombu's ack emulation) and warn at every start.
        app.conf["redbeat_redis_options"] = {}
        super().__init__(app, *args, **kwargs)

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)  # extends the lock first: raises if it was lost
        beat_heartbeat.stamp(get_redis(self.app), f"{socket.gethostname()}:{os.getpid()}")
        return interval
