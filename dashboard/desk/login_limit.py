"""Log-in rate limiting: failed attempts counted in Redis per username and per client address.

Past the limit, the form refuses that username (or address) for the lockout period without
checking the password at all, so guessing cannot go on at the server's pace. A success clears
the username's count. Counting in Redis makes the limit hold across every Daphne process.
"""

from __future__ import annotations

import hashlib
import logging
import math

import redis
from django.conf import settings
from django.contrib.auth import signals
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

from bots.platform.locks import client

log = logging.getLogger(__name__)


def _key(kind: str, value: str) -> str:
    # Hashed: usernames are whatever a stranger typed, and keys should stay short.
    return f"ballast:login-failures:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _counters(address: str, username: str) -> list[tuple[str, int]]:
    counters = [(_key("address", address), settings.LOGIN_FAILURES_PER_ADDRESS)]
    if username:
        counters.append((_key("user", username.strip().lower()), settings.LOGIN_FAILURES_PER_USER))
    return counters


def _address(request) -> str:
    # REMOTE_ADDR, not X-Forwarded-For: a client can write that header itself.
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def record_failure(address: str, username: str) -> None:
    ttl = math.ceil(settings.LOGIN_LOCKOUT_MINUTES * 60)
    try:
        with client().pipeline() as pipe:
            for key, _limit in _counters(address, username):
                pipe.set(key, 0, ex=ttl, nx=True)  # the window starts at the first failure
                pipe.incr(key)
            pipe.execute()
    except redis.RedisError as exc:
        log.error("failed log-in not counted (Redis: %s)", exc)


def locked_for(address: str, username: str) -> int:
    """Seconds until this username and address may try again; 0 when they may now."""
    counters = _counters(address, username)
    try:
        with client().pipeline() as pipe:
            for key, _limit in counters:
                pipe.get(key)
                pipe.ttl(key)
            answers = pipe.execute()
    except redis.RedisError as exc:
        # Without Redis nothing else of Ballast works either; refusing every log-in would
        # only lock out the people who come to fix it.
        log.error("log-in limit not checked (Redis: %s)", exc)
        return 0
    wait = 0
    for (_key_name, limit), count, ttl in zip(counters, answers[::2], answers[1::2], strict=True):
        if count is not None and int(count) >= limit:
            wait = max(wait, ttl if ttl and ttl > 0 else 1)
    return wait


def clear_user(username: str) -> None:
    try:
        client().delete(_key("user", username.strip().lower()))
    except redis.RedisError as exc:
        log.error("failed log-ins of a user not cleared (Redis: %s)", exc)


def _on_failure(sender, credentials, request=None, **kwargs):
    record_failure(_address(request), str(credentials.get("username") or ""))


def _on_success(sender, request, user, **kwargs):
    clear_user(user.get_username())


def connect_signals() -> None:
    signals.user_login_failed.connect(_on_failure, dispatch_uid="ballast-login-failure")
    signals.user_logged_in.connect(_on_success, dispatch_uid="ballast-login-success")


_login_view = auth_views.LoginView.as_view()


def login(request, *args, **kwargs):
    """Django's LoginView, refusing a username or address that failed too often."""
    if request.method == "POST":
        username = request.POST.get("username", "")
        wait = locked_for(_address(request), username)
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
