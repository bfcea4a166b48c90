"""Log-in rate limiting (counted in the real Redis): too many failures lock the username or
the address out for a while with a clear message, without even checking the password."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.desk import login_limit
from tests.support.users import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clean_counters(redis_client):
    def wipe():
        for key in redis_client.scan_iter("ballast:login-failures:*"):
            redis_client.delete(key)

    wipe()
    yield
    wipe()


def attempt(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_failures_lock_the_username_even_for_the_right_password(client, operator, settings):
    settings.LOGIN_FAILURES_PER_USER = 5
    for _ in range(5):
        assert attempt(client, "olivia", "wrong").status_code == 200  # the form's own error

    refused = attempt(client, "OLIVIA", PASSWORD)

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert "Too many failed log-ins for this username or from this address. Try again in 15 minutes." in (
        refused.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_another_username_from_another_address_still_logs_in(client, operator, viewer, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    for _ in range(3):
        attempt(client, "olivia", "wrong")

    assert attempt(client, "victor", PASSWORD, address="10.0.0.2").status_code == 302


def test_one_address_trying_many_usernames_is_locked_out(client, operator, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 4
    for name in ("a", "b", "c", "d"):
        attempt(client, name, "guess", address="10.9.9.9")

    assert attempt(client, "olivia", PASSWORD, address="10.9.9.9").status_code == 429
    assert attempt(client, "olivia", PASSWORD, address="10.0.0.7").status_code == 302


def test_a_success_clears_the_usernames_failures(client, operator, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    attempt(client, "olivia", "wrong")
    attempt(client, "olivia", "wrong")
    assert attempt(client, "olivia", PASSWORD).status_code == 302
    client.logout()

    attempt(client, "olivia", "wrong")
    attempt(client, "olivia", "wrong")

    assert login_limit.locked_for("10.0.0.1", "olivia") == 0


def test_the_count_expires_after_the_lockout_period(client, operator, settings, redis_client):
    settings.LOGIN_FAILURES_PER_USER = 2
    settings.LOGIN_LOCKOUT_MINUTES = 1
    attempt(client, "olivia", "wrong")
    attempt(client, "olivia", "wrong")

    ttls = [redis_client.ttl(key) for key in redis_client.scan_iter("ballast:login-failures:*")]
    assert ttls and all(0 < ttl <= 60 for ttl in ttls)
    assert 0 < login_limit.locked_for("10.0.0.1", "olivia") <= 60
