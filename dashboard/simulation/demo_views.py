"""The public simulation widget at /demo: a visitor plays users trading against the MM bot and
watches Ballast's real engine answer (bots.engine.simulation.demo), on paper, in a run of their own.

No login. The views are async and light: they count the visitor's requests, keep their run's id
in a signed cookie of its own (no session, so no database query and no row per visitor), and
hand each step to the `demo` queue's worker (dashboard.simulation.demo_runs does the work there), awaiting
its answer on a Redis list for at most DEMO_TIMEOUT_SECONDS. So however hard anonymous visitors
play, Daphne and the desk's workers stay free for the desk.

Live runs are counted in Redis (a sorted set of ids by last use); past DEMO_MAX_SESSIONS a new
visitor is told the demo is busy. Past DEMO_RUNS_PER_MINUTE new runs or DEMO_STEPS_PER_MINUTE
steps from one client address in a minute, an anonymous visitor is answered 429. Bad input is
answered 400 with the reason, before anything is sent to the worker, and leaves the run as it was.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time

import redis.asyncio as aredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.engine.figures import plain, whole_number
from bots.engine.simulation import scenarios
from bots.engine.simulation.sim_inputs import (
    FIELDS,
    MAX_PLAY_SECONDS,
    MAX_SHOCK_PCT,
    MAX_USER_SIZE,
    InvalidInput,
    action_token,
    parse_action,
)
from dashboard.simulation import demo_runs
from dashboard.simulation.demo_runs import DEMO_TTL_SECONDS, LIVE_KEY
from dashboard.simulation.tasks import demo_request

DEMO_MAX_SESSIONS = 300
COOKIE = "ballast_demo"
COOKIE_SALT = "ballast.demo.run"
SIZE_PRESETS = ("0.01", "0.1", "0.5", "1")
BUSY = "The demo is busy: too many visitors are running it right now. Try again in a minute."
SLOW = "The demo is slow to answer right now: try again in a moment."
# A step the worker started before its deadline may still be finishing when the deadline
# passes: its answer is awaited this much longer, so that a step done is a step shown.
GRACE_SECONDS = 5
REFUSAL_DELAY_SECONDS = 1


class Busy(Exception):
    pass


def _redis() -> aredis.Redis:
    # One per request: an asyncio client belongs to the event loop it was made in. Its reads
    # outlast the longest wait for the worker's answer (a BLPOP that waits is no dead socket).
    return aredis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=settings.DEMO_TIMEOUT_SECONDS + GRACE_SECONDS + 5
    )


# --- limits --------------------------------------------------------------------------------


def _address(request) -> str:
    # REMOTE_ADDR, not X-Forwarded-For: a client can write that header itself (behind a proxy,
    # run Daphne with --proxy-headers so that REMOTE_ADDR is the visitor's).
    return request.META.get("REMOTE_ADDR", "")


async def _over_limit(request, r: aredis.Redis, kind: str) -> int:
    """Count one anonymous request of `kind` ("runs" or "steps") against the client address's
    minute; the seconds until it may go on when this one is over the limit, else 0."""
    limit = settings.DEMO_RUNS_PER_MINUTE if kind == "runs" else settings.DEMO_STEPS_PER_MINUTE
    if limit == 0:
        return 0
    if settings.SESSION_COOKIE_NAME in request.COOKIES and (await request.auser()).is_authenticated:
        return 0  # the desk's own people (only one with a session cookie costs a query)
    key = f"ballast:demo:rate:{kind}:{_address(request)}"
    async with r.pipeline(transaction=False) as pipe:
        pipe.set(key, 0, ex=60, nx=True)  # the minute starts at the first request
        pipe.incr(key)
        pipe.ttl(key)
        _, count, ttl = await pipe.execute()
    return max(int(ttl), 1) if count > limit else 0


async def _too_many(request, kind: str, wait: int) -> HttpResponse:
    if kind == "runs":
        what = f"new demo runs (at most {settings.DEMO_RUNS_PER_MINUTE} a minute)"
    else:
        what = f"demo steps (at most {settings.DEMO_STEPS_PER_MINUTE} a minute)"
    message = f"Too many {what} from your address: try again in {wait} s."
    # A loop that ignores Retry-After gets at most one answer a second: waiting costs an async
    # view nothing, answering at once would let it ask as fast as Daphne can refuse.
    await asyncio.sleep(min(wait, REFUSAL_DELAY_SECONDS))
    response = await _refused(request, {"demo": message}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _signer() -> signing.Signer:
    return signing.get_cookie_signer(salt=COOKIE_SALT)


def run_id_from(cookie: str | None) -> str | None:
    """The run id a demo cookie carries, or None for no cookie or a forged one."""
    if not cookie:
        return None
    try:
        return _signer().unsign(cookie)
    except signing.BadSignature:
        return None


def run_id_of(request) -> str | None:
    return run_id_from(request.COOKIES.get(COOKIE))


def remember(response: HttpResponse, run_id: str) -> HttpResponse:
    """The visitor's run id, for as long as the run lives without a request (each one renews it)."""
    response.set_cookie(
        COOKIE, _signer().sign(run_id), max_age=DEMO_TTL_SECONDS, httponly=True,
        samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


async def claim(request, r: aredis.Redis) -> tuple[str, bool]:
    """The visitor's run id, and whether it is new; a new one only while fewer than
    DEMO_MAX_SESSIONS runs are live."""
    run_id = run_id_of(request)
    if run_id and await r.zscore(LIVE_KEY, run_id) is not None:
        return run_id, False
    await r.zremrangebyscore(LIVE_KEY, "-inf", time.time() - DEMO_TTL_SECONDS)
    if await r.zcard(LIVE_KEY) >= DEMO_MAX_SESSIONS:
        raise Busy
    run_id = secrets.token_urlsafe(16)
    await r.zadd(LIVE_KEY, {run_id: time.time()})  # the slot is taken from now on
    return run_id, True


# --- the worker ------------------------------------------------------------------------------


async def _ask(request, r: aredis.Redis, job: dict) -> tuple[int, bytes]:
    """Send `job` to the demo's worker and await its answer: (HTTP status, JSON body as the
    worker wrote it: passed on as it is, not decoded and encoded again here)."""
    reply = f"ballast:demo:reply:{secrets.token_urlsafe(16)}"
    timeout = settings.DEMO_TIMEOUT_SECONDS
    job = {
        **job, "reply": reply, "deadline": time.time() + timeout,
        "base": request.build_absolute_uri("/"), "csrf_token": get_token(request),
    }
    # Publishing is a blocking call to the broker: in a thread, off the event loop.
    await sync_to_async(demo_request.apply_async, thread_sensitive=False)(
        (job,), queue=settings.DEMO_QUEUE, expires=timeout
    )
    found = await r.blpop([reply], timeout=timeout + GRACE_SECONDS)
    if found is None:
        return 503, json.dumps({"error": SLOW, "problems": {"demo": SLOW}}).encode()
    status, _, body = found[1].partition(b"\n")
    return int(status), body


# --- answers ---------------------------------------------------------------------------------


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "") or request.htmx


async def _refused(request, problems: dict[str, str], status: int = 400) -> HttpResponse:
    message = "; ".join(problems.values())
    if _wants_json(request):
        response = JsonResponse({"error": message, "problems": problems}, status=status)
    else:
        # The page reads the session (user, messages): a database call, so not on the loop.
        response = await sync_to_async(render)(
            request, "demo_refused.html", {"message": message}, status=status
        )
    if status == 503:
        response["Retry-After"] = "60"
    return response


def _page(request, run_id: str) -> HttpResponse:
    """The widget around the visitor's run, as the worker left it (1 ms to load, a few to draw)."""
    sim = demo_runs.load(run_id)
    if sim is None:
        return render(request, "demo_refused.html", {"message": demo_runs.EXPIRED}, status=410)
    cache.touch(demo_runs.state_key(run_id), DEMO_TTL_SECONDS)
    base = request.build_absolute_uri("/")
    context = demo_runs.page_context(sim, base)
    context.update({
        "scenarios": scenarios.SCENARIOS.values(),
        "fields": [(f, plain(sim.settings[f.name])) for f in FIELDS],
        "presets": SIZE_PRESETS,
        "max_play": MAX_PLAY_SECONDS,
        "max_size": MAX_USER_SIZE,
        "max_shock": MAX_SHOCK_PCT,
        "initial": demo_runs.state(sim, None, base, get_token(request)),
    })
    return render(request, "demo.html", context)


# --- views -----------------------------------------------------------------------------------


@require_GET
async def demo_page(request):
    """The widget. A query string (scenario, seed, settings, actions) starts or replays that run."""
    starts = any(k in request.GET for k in ("scenario", "seed", "actions", *(f.name for f in FIELDS)))
    r = _redis()
    try:
        kind = "runs" if starts or not run_id_of(request) else "steps"
        if wait := await _over_limit(request, r, kind):
            return await _too_many(request, kind, wait)
        try:
            run_id, new = await claim(request, r)
        except Busy:
            return await _refused(request, {"demo": BUSY}, status=503)
        if starts or new or not await cache.ahas_key(demo_runs.state_key(run_id)):
            query = {k: request.GET[k] for k in request.GET} if starts else {}
            status, body = await _ask(request, r, {"kind": "new", "run_id": run_id, "query": query})
            if status != 200:
                return await _refused(request, json.loads(body)["problems"], status=status)
    finally:
        await r.aclose()
    return remember(await sync_to_async(_page)(request, run_id), run_id)


def _action_from(post) -> tuple:
    kind = post.get("action", "")
    if kind in ("buy", "sell"):
        return parse_action(("b" if kind == "buy" else "s") + post.get("size", ""))
    if kind == "shock":
        return parse_action("k" + post.get("pct", ""))
    if kind == "play":
        return parse_action("p" + post.get("seconds", ""))
    if kind == "apply":
        return ("apply",)
    if kind == "intervene":
        return ("intervene",)
    if kind == "flow":
        return parse_action(f"f{post.get('rate', '')}/{post.get('buy', '')}")
    raise InvalidInput({"action": f"unknown action {kind[:20]!r}"})


def _since(text: str) -> int | None:
    """How many chart points the page already has; none (blank) asks for every point."""
    if text == "":
        return None
    try:
        return whole_number(text, max_digits=9)
    except ValueError:
        raise InvalidInput(
            {"since": "since must be a count of chart points, a whole number in the digits 0-9"}
        ) from None


@require_POST
async def demo_act(request):
    """One action on the visitor's run: a user trade, a shock, seconds played, apply, flow."""
    r = _redis()
    try:
        if wait := await _over_limit(request, r, "steps"):
            return await _too_many(request, "steps", wait)
        run_id = run_id_of(request)
        try:
            # Everything posted is read before the run is touched: a bad field changes nothing.
            since = _since(request.POST.get("since", ""))
            token = action_token(_action_from(request.POST))
        except InvalidInput as exc:
            return await _refused(request, exc.problems)
        if not run_id:
            return await _refused(request, {"demo": demo_runs.EXPIRED}, status=410)
        status, body = await _ask(
            request, r, {"kind": "act", "run_id": run_id, "action": token, "since": since}
        )
    finally:
        await r.aclose()
    return await _answered(request, run_id, status, body)


async def _answered(request, run_id: str, status: int, body: bytes) -> HttpResponse:
    if status != 200:
        return await _refused(request, json.loads(body)["problems"], status=status)
    if not _wants_json(request):
        return remember(redirect("demo"), run_id)
    return remember(HttpResponse(body, content_type="application/json"), run_id)


@require_POST
async def demo_reset(request):
    """A new run from the posted scenario, seed and settings."""
    r = _redis()
    try:
        if wait := await _over_limit(request, r, "runs"):
            return await _too_many(request, "runs", wait)
        try:
            run_id, _ = await claim(request, r)
        except Busy:
            return await _refused(request, {"demo": BUSY}, status=503)
        query = {
            k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "actions")
        }
        status, body = await _ask(request, r, {"kind": "reset", "run_id": run_id, "query": query})
    finally:
        await r.aclose()
    return await _answered(request, run_id, status, body)

