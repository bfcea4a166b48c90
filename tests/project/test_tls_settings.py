"""Behind TLS (BALLAST_TLS, or SECURE_PROXY_SSL_HEADER naming the proxy's header) the session and
CSRF cookies go over https only, HSTS is on and the policy upgrades requests; without it (the
demo, a laptop) none of that; and a session left idle BALLAST_SESSION_IDLE_HOURS (8) ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.support.users import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
NAMES = [
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER",
    "CONTENT_SECURITY_POLICY", "SESSION_COOKIE_AGE", "SESSION_SAVE_EVERY_REQUEST",
]


def settings_with(**env) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("BALLAST_TLS", "SECURE_PROXY_SSL_HEADER")}
    code = f"import json; from django.conf import settings as s; print(json.dumps({{n: getattr(s, n, None) for n in {NAMES}}}))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "env", [{"BALLAST_TLS": "true"}, {"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}], ids=["tls", "proxy"]
)
def test_behind_tls_cookies_are_secure_and_hsts_is_on(env):
    found = settings_with(**env)
    assert found["SESSION_COOKIE_SECURE"] and found["CSRF_COOKIE_SECURE"]
    assert found["SECURE_HSTS_SECONDS"] == 31_536_000
    assert "upgrade-insecure-requests" in found["CONTENT_SECURITY_POLICY"]
    if "SECURE_PROXY_SSL_HEADER" in env:
        assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_without_tls_the_demo_keeps_plain_cookies_and_no_hsts():
    found = settings_with()
    assert not found["SESSION_COOKIE_SECURE"] and not found["CSRF_COOKIE_SECURE"]
    assert found["SECURE_HSTS_SECONDS"] == 0 and found["SECURE_PROXY_SSL_HEADER"] is None
    assert "script-src 'self'" in found["CONTENT_SECURITY_POLICY"]
    assert "upgrade-insecure-requests" not in found["CONTENT_SECURITY_POLICY"]


def test_hsts_and_the_idle_timeout_can_be_set():
    found = settings_with(BALLAST_TLS="1", BALLAST_HSTS_SECONDS="3600", BALLAST_SESSION_IDLE_HOURS="0.5")
    assert (found["SECURE_HSTS_SECONDS"], found["SESSION_COOKIE_AGE"]) == (3600, 1800)


@pytest.mark.django_db
def test_each_request_moves_an_idle_sessions_end_on(client, viewer, settings):
    assert (settings.SESSION_COOKIE_AGE, settings.SESSION_SAVE_EVERY_REQUEST) == (8 * 3600, True)
    client.post(reverse("login"), {"username": viewer.username, "password": PASSWORD})

    response = client.get(reverse("overview"))

    assert response.status_code == 200
    assert response.cookies["sessionid"]["max-age"] == 8 * 3600


@pytest.mark.django_db
def test_a_secure_request_gets_hsts_secure_cookies_and_the_policy(client, viewer, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = True

    response = client.post(
        reverse("login"), {"username": viewer.username, "password": PASSWORD}, secure=True
    )

    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert response.cookies["sessionid"]["secure"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
