"""Log-in rate limiting: failed attempts counted per (client address, username) pair and per
client address, in Redis so that the limit holds across every Daphne process.

Past a limit the form refuses that pair (or that address) for the lockout period without
checking the password, so guessing cannot go on at the server's pace. Nothing is counted per
username alone: then anyone could lock an operator out by failing on purpose from anywhere,
whereas here the attacker only locks out their own address. A success clears the pair's count.

The client address is REMOTE_ADDR, or, when TRUSTED_PROXY_HEADER names the header a reverse
proxy sets, the address that proxy saw (TRUSTED_PROXIES counts the proxies in front of Ballast); a header no proxy is trusted to set is never read, since clients write it.

With Redis down or slow the counts are kept in this process instead (fail open to a
per-process limit): the log-in page keeps working, and guessing is still slowed down.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time

import redis
from django.conf import settings
from django.contrib.auth import signals
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

log = logging.getLogger(__name__)

# A log-in never waits long on a Redis that hangs: past this it counts in the process.
REDIS_SECONDS = 0.5
# Redis errors, and what a socket that vanished raises before redis-py wraps it.
FAILED = (redis.RedisError, OSError)
_redis: redis.Redis | None = None


def _client() -> redis.Redis:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=REDIS_SECONDS, socket_timeout=REDIS_SECONDS
        )
    return _redis


def _key(kind: str, value: str) -> str:
    # Hashed: usernames are whatever a stranger typed, and keys should stay short.
    return f"ballast:login-failures:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _pair_key(address: str, username: str) -> str:
    return _key("pair", f"{address}\n{username.strip().lower()}")


def _counters(address: str, username: str) -> list[tuple[str, int]]:
    counters = [(_key("address", address), settings.LOGIN_FAILURES_PER_ADDRESS)]
    if username:
        counters.append((_pair_key(address, username), settings.LOGIN_FAILURES_PER_USER))
    return counters


def client_address(request) -> str:
    """The address limits count: REMOTE_ADDR, or the one the outermost trusted proxy saw."""
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR", "")
    header = settings.TRUSTED_PROXY_HEADER
    if not header:
        return remote
    # Each proxy appends the address it got the request from, so the entry written by the
    # first of our own proxies sits TRUSTED_PROXIES from the right; entries left of it are
    # whatever the client sent.
    name = "HTTP_" + header.upper().replace("-", "_")
    hops = [h.strip() for h in request.META.get(name, "").split(",") if h.strip()]
    if len(hops) < settings.TRUSTED_PROXIES:
        return remote  # not through the proxies: the header, if any, is the client's own
    return hops[-settings.TRUSTED_PROXIES]


class _LocalCounts:
    """Failure counts in this process, for while Redis does not answer: key -> (count, until)."""

    LIMIT = 10_000  # keys kept at most; past it the oldest windows go first

    def __init__(self):
        self.counts: dict[str, tuple[int, float]] = {}
        self.lock = threading.Lock()

    def add(self, keys: list[str], ttl: int) -> None:
        now = time.monotonic()
        with self.lock:
            for key in keys:
                count, until = self.counts.get(key, (0, 0.0))
                if until <= now:
                    count, until = 0, now + ttl  # the window starts at the first failure
                self.counts[key] = (count + 1, until)
            excess = len(self.counts) - self.LIMIT
            if excess > 0:
                by_end = sorted(self.counts, key=lambda key: self.counts[key][1])
                for key in by_end[:excess]:
                    del self.counts[key]

    def get(self, key: str) -> tuple[int | None, int]:
        count, until = self.counts.get(key, (0, 0.0))
        left = until - time.monotonic()
        return (count, math.ceil(left)) if left > 0 else (None, -2)

    def clear(self, key: str) -> None:
        with self.lock:
            self.counts.pop(key, None)


local_counts = _LocalCounts()


def record_failure(address: str, username: str) -> None:
    ttl = math.ceil(settings.LOGIN_LOCKOUT_MINUTES * 60)
    keys = [key for key, _limit in _counters(address, username)]
    try:
        with _client().pipeline() as pipe:
            for key in keys:
                pipe.set(key, 0, ex=ttl, nx=True)  # the window starts at the first failure
                pipe.incr(key)
            pipe.execute()
    except FAILED as exc:
        log.error("failed log-in counted in this process only (Redis: %s)", exc)
        local_counts.add(keys, ttl)


def locked_for(address: str, username: str) -> int:
    """Seconds until this pair and address may try again; 0 when they may now."""
    counters = _counters(address, username)
    try:
        with _client().pipeline() as pipe:
            for key, _limit in counters:
                pipe.get(key)
                pipe.ttl(key)
            answers = pipe.execute()
    except FAILED as exc:
        # Refusing every log-in would only lock out the people who come to fix Redis: the
        # counts this process kept meanwhile decide instead.
        log.error("log-in limit checked in this process only (Redis: %s)", exc)
        answers = [part for key, _limit in counters for part in local_counts.get(key)]
    wait = 0
    for (_key_name, limit), count, ttl in zip(counters, answers[::2], answers[1::2], strict=True):
        if count is not None and int(count) >= limit:
            wait = max(wait, ttl if ttl and ttl > 0 else 1)
    return wait


def clear_pair(address: str, username: str) -> None:
    key = _pair_key(address, username)
    local_counts.clear(key)
    try:
        _client().delete(key)
    except FAILED as exc:
        log.error("failed log-ins of a user not cleared (Redis: %s)", exc)


def _on_failure(sender, credentials, request=None, **kwargs):
    record_failure(client_address(request), str(credentials.get("username") or ""))


def _on_success(sender, request, user, **kwargs):
    clear_pair(client_address(request), user.get_username())


def connect_signals() -> None:
    signals.user_login_failed.connect(_on_failure, dispatch_uid="ballast-login-failure")
    signals.user_logged_in.connect(_on_success, dispatch_uid="ballast-login-success")


_login_view = auth_views.LoginView.as_view()


def login(request, *args, **kwargs):
    """Django's LoginView, refusing a username from an address, or an address, that failed too
    often."""
    if request.method == "POST":
        username = request.POST.get("username", "")
        wait = locked_for(client_address(request), username)
        if wait:
            minutes = math.ceil(wait / 60)
            context = {
                "form": AuthenticationForm(request, initial={"username": username}),
                "next": request.POST.get("next", ""),
                "limited": "Too many failed log-ins for this username or from this address. "
                f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            }
            response = render(request, "registration/login.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
    return _login_view(request, *args, **kwargs)
