"""Production mode (DEBUG off, a host that is not loopback) refuses to start unless
CREDENTIALS_KEY is set and differs from SECRET_KEY; the demo and a developer's run need neither."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = "CREDENTIALS_KEY must be set, and differ from SECRET_KEY"


def check(**env) -> subprocess.CompletedProcess:
    unset = ("CREDENTIALS_KEY", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    "keys",
    [
        {},
        {"SECRET_KEY": "one secret"},
        {"SECRET_KEY": "one secret", "CREDENTIALS_KEY": "one secret"},
    ],
    ids=["nothing set", "only SECRET_KEY", "the same key twice"],
)
def test_production_refuses_to_start_without_its_own_credentials_key(keys):
    result = check(DEBUG="false", ALLOWED_HOSTS="desk.example.com,127.0.0.1", **keys)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert MESSAGE in result.stderr
    assert "desk.example.com" in result.stderr


def test_production_starts_with_a_key_of_its_own():
    result = check(
        DEBUG="false", ALLOWED_HOSTS="desk.example.com", SECRET_KEY="one", CREDENTIALS_KEY="another"
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost,[::1]"},
        {"DEBUG": "true", "ALLOWED_HOSTS": "desk.example.com"},
    ],
    ids=["the demo", "loopback only", "debug"],
)
def test_the_demo_and_development_need_no_credentials_key(env):
    result = check(**env)
    assert result.returncode == 0, result.stderr
    assert MESSAGE not in result.stderr
