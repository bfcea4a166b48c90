"""With Redis down the log-in page keeps working (never a 500) and the limits fall back to counts
kept in the process: a wrong password still counts, the right one from elsewhere still logs in."""

from __future__ import annotations

import socket

import pytest
import redis
from django.urls import reverse

from dashboard.desk import login_limit
from tests.support.users import PASSWORD

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed once the probe goes: nothing listens there


@pytest.fixture(autouse=True)
def redis_down(monkeypatch):
    down = redis.Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=0.5)
    monkeypatch.setattr(login_limit, "_redis", down)
    monkeypatch.setattr(login_limit, "local_counts", login_limit._LocalCounts())
    with pytest.raises(redis.ConnectionError):
        down.ping()


def attempt(client, username, password, address):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_log_in_page_and_a_log_in_work_without_redis(client, operator):
    assert client.get(reverse("login")).status_code == 200
    assert attempt(client, "olivia", "wrong", "10.0.0.1").status_code == 200
    assert attempt(client, "olivia", PASSWORD, "10.0.0.1").status_code == 302


def test_failures_are_limited_in_the_process_while_redis_is_down(client, operator, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    for _ in range(3):
        assert attempt(client, "olivia", "wrong", "10.0.0.1").status_code == 200

    refused = attempt(client, "olivia", PASSWORD, "10.0.0.1")

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert attempt(client, "olivia", PASSWORD, "10.0.0.2").status_code == 302
