"""The front end's API clients: tokens made on the desk by an admin, shown once, kept hashed.

A token is 32 random bytes (urlsafe), so a plain sha256 of it is as good as a slow hash: nobody
can guess one, and the database never holds what would let someone use it.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from django.utils import timezone

from bots.desk.audit import record
from bots.models import ApiClient
from bots.platform import locks

PREFIX = "otc_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(name: str, requests_per_minute: int, user) -> tuple[ApiClient, str]:
    """A new client and its token: the token is returned here once and never again."""
    token = PREFIX + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        name=name, token_hash=token_hash(token), token_hint=token[:10],
        requests_per_minute=requests_per_minute, created_by=user,
    )
    record("otc_client_created", user=user, subject=name, token_hint=client.token_hint,
           requests_per_minute=requests_per_minute)
    return client, token


# Quotes asked by hand on the OTC page go through the API's code as this client.
DESK = "Desk (by hand)"


def desk_client() -> ApiClient:
    """The client of quotes asked on the desk's page. No token of it exists anywhere: its hash
    is of random bytes nobody keeps, so the API never authenticates it."""
    client, _ = ApiClient.objects.get_or_create(
        name=DESK,
        defaults={"token_hash": token_hash(secrets.token_urlsafe(32)), "token_hint": "(no token)"},
    )
    return client


def revoke(client: ApiClient, user) -> bool:
    """Revoke a client's token at once; False if it was revoked already."""
    changed = ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if changed:
        record("otc_client_revoked", user=user, subject=client.name, token_hint=client.token_hint)
    return bool(changed)


def authenticate(token: str) -> ApiClient | None:
    """The live client holding `token`, or None."""
    if not token:
        return None
    return ApiClient.objects.filter(token_hash=token_hash(token), revoked_at__isnull=True).first()


def over_rate(client: ApiClient, now: float | None = None) -> int | None:
    """Count one request of `client` in its current minute (a counter in Redis shared by every
    process); None while within its requests per minute, else the seconds until the next minute.
    Raises redis's errors when Redis is down: the API answers 503 rather than go unlimited."""
    now = time.time() if now is None else now
    minute = int(now // 60)
    key = f"ballast:otc-rate:{client.pk}:{minute}"
    pipe = locks.client().pipeline()
    pipe.incr(key)
    pipe.expire(key, 120)
    count = pipe.execute()[0]
    if count > client.requests_per_minute:
        return max(1, (minute + 1) * 60 - int(now))
    return None
