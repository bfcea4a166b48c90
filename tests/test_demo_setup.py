"""`seed_demo` builds the demo once, and the embedded Redis that `make demo` runs."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import redis
from django.contrib.auth import authenticate
from django.core.management import call_command

from bots.models import Account, Market, PaperBalance
from dashboard.embedded_redis import EmbeddedRedis


@pytest.mark.django_db
def test_seeding_twice_keeps_one_demo_and_prints_a_working_login():
    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", "--trades-per-minute", "30", stdout=out)
    password = out.getvalue().split("password")[1].split()[0]

    assert Market.objects.count() == 1
    assert Market.objects.get().sim_trades_per_minute == 30
    assert Account.objects.count() == 4
    mm = Account.objects.get(role=Account.MARKET_MAKING)
    assert PaperBalance.objects.get(account=mm, asset="BTC").free == Decimal("2")
    assert authenticate(username="operator", password=password) is not None


def test_the_embedded_redis_starts_answers_and_stops(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis.sock").start()
    try:
        assert redis.Redis.from_url(server.url).ping()
        with pytest.raises(RuntimeError, match="already answers"):
            EmbeddedRedis(tmp_path / "redis.sock").start()
    finally:
        server.stop()
    assert not (tmp_path / "redis.sock").exists()
