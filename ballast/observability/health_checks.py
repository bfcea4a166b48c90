"""The parts /health/ looks at, as django-health-check checks, and the registry that lists them.

Each check is a HealthCheck (django-health-check's plugin API): `run()` returns when its part is
well and raises ServiceUnavailable with a short reason otherwise; the library runs them at once,
each bounded by its `timeout`. A process of Ballast that more parts depend on (the stream process,
say) adds its own checks with `register(factory)` in its app's ready(): the factory is called on
every request and returns the checks to run, named by `name`.

Nothing here may say a secret: the endpoint answers anyone. Reasons name parts, not URLs.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
from collections.abc import Callable, Iterable

import redis
import redis.asyncio
from django.conf import settings
from django.db import connections
from django.utils import timezone
from health_check import checks as library
from health_check.base import HealthCheck
from health_check.contrib.redis import Redis as LibraryRedis
from health_check.exceptions import ServiceUnavailable

from ballast.celery import app as celery_app
from bots.desk.health import beat_silence
from bots.models import Market
from bots.streams import work as stream_work
from bots.venues import stream_state as streams


def _timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.HEALTH_CHECK_TIMEOUT)


@dataclasses.dataclass
class Database(library.Database):
    name = "database"

    def __post_init__(self):
        self.timeout = _timeout()


@dataclasses.dataclass
class Redis(LibraryRedis):
    name = "redis"

    def __post_init__(self):
        super().__post_init__()
        self.timeout = _timeout()


def redis_client() -> redis.asyncio.Redis:
    seconds = settings.HEALTH_CHECK_TIMEOUT
    return redis.asyncio.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=seconds, socket_timeout=seconds
    )


class WorkerAnswers:
    """The queues each Celery worker consumes, asked once per request (one broadcast, on a
    connection of its own with short timeouts: a Redis that is down fails it at once) and
    shared by the queue checks."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._lock = threading.Lock()
        self._queues: dict[str, list[str]] | None = None
        self._error = ""

    def consumers(self, queue: str) -> list[str]:
        with self._lock:
            if self._queues is None and not self._error:
                self._ask()
        if self._error:
            raise ServiceUnavailable(self._error)
        return self._queues.get(queue, [])

    def _ask(self) -> None:
        options = {"socket_connect_timeout": self.seconds, "socket_timeout": self.seconds, "max_retries": 0}
        try:
            with celery_app.connection_for_write(transport_options=options) as connection:
                replies = celery_app.control.inspect(
                    timeout=self.seconds, connection=connection
                ).active_queues() or {}
        except Exception as exc:  # kombu's OperationalError, redis' errors, OSError: all "down"
            self._error = f"the broker did not answer ({type(exc).__name__})"
            return
        queues: dict[str, list[str]] = {}
        for worker, consumed in replies.items():
            for queue in consumed:
                queues.setdefault(queue["name"], []).append(worker)
        self._queues = queues


# The workers' broadcast waits its whole timeout whoever answers (how many workers there are is
# not known, so replies are collected until then): 2.04-2.08 s for 2 s on an idle machine. The
# library's own limit for a check is its timeout plus one second, which left the connection and
# the broadcast one second on a loaded machine: CI saw every queue "timed out" at once.
QUEUE_MARGIN_SECONDS = 2


@dataclasses.dataclass
class QueueAnswering(HealthCheck):
    """Some live worker consumes this queue and answered within the timeout."""

    queue: str
    answers: WorkerAnswers = dataclasses.field(repr=False, compare=False)

    def __post_init__(self):
        self.timeout = _timeout() + datetime.timedelta(seconds=QUEUE_MARGIN_SECONDS)

    @property
    def name(self) -> str:
        return f"queue:{self.queue}"

    def run(self) -> None:
        if not self.answers.consumers(self.queue):
            raise ServiceUnavailable(f"no worker consuming the {self.queue!r} queue answered")


class _DatabaseCheck(HealthCheck):
    """A check reading the database from the library's executor thread: it closes that thread's
    connection afterwards, so none is left open per request."""

    def __post_init__(self):
        self.timeout = _timeout()

    def run(self) -> None:
        try:
            self.look()
        finally:
            connections.close_all()

    def look(self) -> None:
        raise NotImplementedError


@dataclasses.dataclass
class BeatAlive(HealthCheck):
    """The active beat stamps its own heartbeat in Redis on every tick (ballast/beat.py), on a
    connection of its own with short timeouts here: a Redis that is down fails it at once."""

    name = "beat"

    def __post_init__(self):
        self.timeout = _timeout()

    def run(self) -> None:
        seconds = settings.HEALTH_CHECK_TIMEOUT
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=seconds, socket_timeout=seconds
        )
        try:
            silence = beat_silence(client=client)
        except (redis.RedisError, OSError) as exc:
            raise ServiceUnavailable(f"its heartbeat could not be read ({type(exc).__name__})") from None
        finally:
            client.close()
        if silence is None:
            raise ServiceUnavailable("no heartbeat written yet: no beat has ticked")
        if silence > settings.BEAT_SILENT_SECONDS:
            raise ServiceUnavailable(f"the heartbeat is {silence:.0f} s old: no beat is running")


@dataclasses.dataclass
class TicksFresh(_DatabaseCheck):
    """Every market that should be quoted (enabled, not paused or killed) ticked within the dead
    man's switch limit, counted from the later of its last tick and its last resume."""

    name = "ticks"

    def look(self) -> None:
        now = timezone.now()
        late = []
        rows = Market.objects.filter(enabled=True, kind=Market.BOOK).exclude(state__in=Market.STOPPED).values_list(
            "slug", "last_tick_at", "started_at"
        )
        for slug, last_tick, started in rows.order_by("slug"):
            since = max((t for t in (last_tick, started) if t is not None), default=None)
            if since is None:
                late.append(f"{slug} never ticked")
            elif (now - since).total_seconds() > settings.DEADMAN_SECONDS:
                late.append(f"{slug} silent {(now - since).total_seconds():.0f} s")
        if late:
            raise ServiceUnavailable("; ".join(late))


@dataclasses.dataclass
class StreamsFresh(_DatabaseCheck):
    """Every connection set the stream process should hold (bots/streams/work.py plan: ccxt
    venues of enabled markets) is live: each account whose fills it streams renews its mark,
    and each book it streams is live (its stream delivered it and renews its mark) or younger
    than BALLAST_STREAM_BOOK_STALE_SECONDS by the venue's time. An exchange sends nothing for a
    book that does not change: a quiet hedge book on a live stream is well, where its age alone
    would page someone for a calm market (ticks and hedges still hold every book they price
    from to the venue's time). A paper account's fills need no stream (the capture task takes
    them when none listens, bots/venues/paper_stream.py), so a desk on paper venues only has
    nothing to check."""

    name = "streams"

    def look(self) -> None:
        late = []
        for plan in stream_work.plan():
            if plan.paper:
                continue
            if plan.fill_markets and not streams.fills_streamed(plan.account_id):
                late.append(f"{plan.venue}: fills of account {plan.account_id} not streamed")
            for symbol in sorted(plan.book_symbols):
                if streams.streamed_book(plan.venue_id, symbol, settings.STREAM_BOOK_STALE_SECONDS,
                                         quiet_ok=True) is None:
                    late.append(f"{plan.venue}: {symbol} book not streamed or stale")
        if late:
            raise ServiceUnavailable("; ".join(late))


def queues() -> list[str]:
    """Every queue a worker must take: the configured ones and those only routes name (demo)."""
    named = list(settings.CELERY_TASK_QUEUES)
    for route in settings.CELERY_TASK_ROUTES.values():
        if route["queue"] not in named:
            named.append(route["queue"])
    return named


def core_checks() -> list[HealthCheck]:
    answers = WorkerAnswers(settings.HEALTH_CHECK_TIMEOUT)
    return [
        Database(),
        Redis(client_factory=redis_client),
        *(QueueAnswering(queue, answers) for queue in queues()),
        BeatAlive(),
        TicksFresh(),
        StreamsFresh(),
    ]


_factories: list[Callable[[], Iterable[HealthCheck]]] = [core_checks]


def register(factory: Callable[[], Iterable[HealthCheck]]) -> None:
    """Add checks to /health/: `factory()` runs on each request, without the database (the
    request's event loop calls it), and returns checks with a `name` each."""
    if factory not in _factories:
        _factories.append(factory)


def all_checks() -> list[HealthCheck]:
    return [check for factory in _factories for check in factory()]
