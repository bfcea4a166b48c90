"""Shared fixtures: the Redis the suite must reach, personas, and a small paper exchange."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings


def pytest_sessionstart(session):
    # Tests of Celery and Channels talk to a real Redis; without one the suite must fail loudly,
    # never skip. `make test` starts an embedded one when REDIS_URL is not set.
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.exit(
            f"Redis at {settings.REDIS_URL} is unreachable ({exc}). Run the suite with `make test`, "
            "or set REDIS_URL to a running Redis.",
            returncode=3,
        )


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()
