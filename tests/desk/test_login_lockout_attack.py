"""Log-in limiting cannot be turned into a lock-out: wrong passwords for an operator from one
address refuse that address (and that username from it), never the operator elsewhere; behind a
configured proxy the address is the one the proxy saw, and a header no proxy is trusted to set
counts for nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

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


def attempt(client, username, password, address, **headers):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def test_an_attacker_failing_on_purpose_does_not_lock_the_operator_out(client, operator, settings):
    settings.LOGIN_FAILURES_PER_USER = 5
    settings.LOGIN_FAILURES_PER_ADDRESS = 20
    for _ in range(21):
        attempt(client, operator.username, "wrong", "203.0.113.66")

    assert attempt(client, operator.username, PASSWORD, "203.0.113.66").status_code == 429
    assert attempt(client, operator.username, PASSWORD, "10.0.0.2").status_code == 302


def test_an_unconfigured_proxy_header_is_not_believed(client, operator, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    for n in range(3):
        attempt(client, "olivia", "wrong", "10.0.0.1", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    assert attempt(client, "olivia", PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 429


def test_behind_a_trusted_proxy_each_client_address_is_counted_apart(client, operator, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXIES = 1
    settings.LOGIN_FAILURES_PER_USER = 3
    proxy = "10.0.0.1"
    for n in range(3):
        # The client writes an address of its own on the left; the proxy appends what it saw.
        forged = f"192.0.2.{n}, 203.0.113.66"
        attempt(client, "olivia", "wrong", proxy, HTTP_X_FORWARDED_FOR=forged)

    assert attempt(client, "olivia", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="203.0.113.66").status_code == 429
    assert attempt(client, "olivia", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302


def test_two_proxies_take_the_address_the_outer_one_saw(client, operator, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXIES = 2
    settings.LOGIN_FAILURES_PER_ADDRESS = 2
    for guess in ("a", "b"):
        attempt(client, guess, "wrong", "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66, 10.0.0.5")

    through = {"HTTP_X_FORWARDED_FOR": "203.0.113.66, 10.0.0.5"}
    assert attempt(client, "olivia", PASSWORD, "10.0.0.1", **through).status_code == 429
    other = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 10.0.0.5"}
    assert attempt(client, "olivia", PASSWORD, "10.0.0.1", **other).status_code == 302
