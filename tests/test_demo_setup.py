"""`seed_demo` builds the demo once, and the embedded Redis that `make demo` runs."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command

from bots.models import Account, Market, PaperBalance
from dashboard.embedded_redis import EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def printed_password(output: str) -> str:
    return output.split("with password")[1].split()[0]


@pytest.mark.django_db
def test_seeding_twice_keeps_one_demo_and_its_login():
    password = printed_password(seed())
    seed("--trades-per-minute", "30")

    assert Market.objects.count() == 1
    assert Market.objects.get().sim_trades_per_minute == 30
    assert Account.objects.count() == 4
    mm = Account.objects.get(role=Account.MARKET_MAKING)
    assert PaperBalance.objects.get(account=mm, asset="BTC").free == Decimal("2")
    assert authenticate(username="operator", password=password) is not None


@pytest.mark.django_db
def test_changing_the_users_rate_leaves_the_login_alone():
    password = printed_password(seed())
    before = User.objects.get(username="operator").password

    output = seed("--trades-per-minute", "0")

    assert Market.objects.get().sim_trades_per_minute == 0
    assert "with password" not in output  # no password printed that would not work
    assert "--new-password" in output
    assert User.objects.get(username="operator").password == before
    assert authenticate(username="operator", password=password) is not None


@pytest.mark.django_db
def test_a_new_password_is_printed_only_when_asked_for_and_it_works():
    old = printed_password(seed())
    seed("--trades-per-minute", "60")

    new = printed_password(seed("--new-password"))

    assert Market.objects.get().sim_trades_per_minute == 60  # no rate given: kept
    assert authenticate(username="operator", password=new) is not None
    assert authenticate(username="operator", password=old) is None
    assert User.objects.get(username="operator").groups.filter(name="operator").exists()


def test_make_demo_asks_for_a_new_password_so_its_printed_login_works():
    plan = subprocess.run(
        ["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "manage.py seed_demo --new-password" in plan


def test_the_embedded_redis_starts_answers_and_stops(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis.sock").start()
    try:
        assert redis.Redis.from_url(server.url).ping()
        with pytest.raises(RuntimeError, match="already answers"):
            EmbeddedRedis(tmp_path / "redis.sock").start()
    finally:
        server.stop()
    assert not (tmp_path / "redis.sock").exists()
