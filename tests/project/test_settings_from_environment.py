"""Bad settings stop start-up with a message that names the variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def check(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://db/ballast", "DATABASE_URL must be a URL starting with postgres://"),
        ("DATABASE_URL", "postgres://db.example", "DATABASE_URL names no database"),
        ("REDIS_URL", "http://127.0.0.1:6379", "REDIS_URL must be a URL starting with redis://"),
        ("REDIS_URL", "redis://", "REDIS_URL has no host"),
        ("DEBUG", "maybe", "DEBUG must be true or false, not 'maybe'"),
        ("BALLAST_BROKER_ACK_EMULATION", "no ack", "BALLAST_BROKER_ACK_EMULATION must be true or false"),
        ("BALLAST_TICK_SECONDS", "0", "BALLAST_TICK_SECONDS must be between 0.2 and 60.0"),
        ("BALLAST_TICK_SECONDS", "fast", "BALLAST_TICK_SECONDS must be a number"),
        ("BALLAST_DEADMAN_SECONDS", "2", "BALLAST_DEADMAN_SECONDS must be between 3.0 and 600.0, not '2'"),
        ("BALLAST_DEADMAN_SECONDS", "601", "BALLAST_DEADMAN_SECONDS must be between 3.0 and 600.0"),
        ("BALLAST_DEADMAN_SECONDS", "soon", "BALLAST_DEADMAN_SECONDS must be a number, not 'soon'"),
        ("BALLAST_DEMO_STEPS_PER_MINUTE", "-1", "BALLAST_DEMO_STEPS_PER_MINUTE must be between 0 and 100000"),
        ("BALLAST_DEMO_RUNS_PER_MINUTE", "many", "BALLAST_DEMO_RUNS_PER_MINUTE must be a number, not 'many'"),
        ("BALLAST_DEMO_TIMEOUT_SECONDS", "0.5", "BALLAST_DEMO_TIMEOUT_SECONDS must be between 1.0 and 120.0"),
        ("BALLAST_TRUSTED_PROXY_HEADER", "X-Real-IP: 1", "BALLAST_TRUSTED_PROXY_HEADER must be a header name"),
        ("BALLAST_TRUSTED_PROXIES", "0", "BALLAST_TRUSTED_PROXIES must be between 1 and 10"),
        (
            "BALLAST_DEADMAN_SECONDS", "5",
            "BALLAST_DEADMAN_SECONDS (5) must be at least 3 times BALLAST_TICK_SECONDS (2)",
        ),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value, message):
    # Two-second ticks, for the dead man's switch that must outlast three of them.
    extra = {"BALLAST_TICK_SECONDS": "2"} if variable == "BALLAST_DEADMAN_SECONDS" else {}
    result = check(**{variable: value, **extra})
    assert result.returncode != 0
    assert message in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_good_values_start():
    result = check(DEBUG="false", BALLAST_TICK_SECONDS="0.5")
    assert result.returncode == 0, result.stderr


def database_settings(url: str) -> dict:
    """The DATABASES["default"] that start-up builds from `url` (nothing connects)."""
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "import json; from django.conf import settings; "
            "print(json.dumps(settings.DATABASES['default'], default=str))",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_database_url_keeps_its_query_parameters():
    config = database_settings(
        "postgres://desk:p%40ss@db.example:5433/ballast?sslmode=require&connect_timeout=5"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["OPTIONS"] == {"sslmode": "require", "connect_timeout": 5}
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("ballast", "desk", "p@ss")
    assert (config["HOST"], str(config["PORT"])) == ("db.example", "5433")
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True)


def test_slow_ticks_lengthen_the_dead_man_switch_left_unset():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c",
         "from django.conf import settings; print(settings.DEADMAN_SECONDS)"],
        cwd=ROOT, env={**os.environ, "BALLAST_TICK_SECONDS": "20"}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["60.0"]
