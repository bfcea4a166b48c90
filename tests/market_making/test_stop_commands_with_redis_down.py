"""Pause, cancel-all, kill and the desk's kill switch with Redis down: the orders still leave the
venue, the state and its audit entry are written, and the page says what was cancelled.

The same for a market on a ccxt venue (the binance stub), whose requests otherwise take from the
request budget shared through Redis. Redis is really down here: the tick locks, the channel layer and Celery's broker are pointed at
a private Redis server, which is then stopped.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.urls import reverse

from ballast.celery import app as celery_app
from ballast.embedded_redis import EmbeddedRedis
from ballast.settings import _celery_broker
from bots.models import Account, AuditEntry, Hedge, KillSwitch, Market
from bots.platform import locks
from bots.simulation.paper_flow import user_trade
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.venues import clients, venue_for
from tests.support.ccxt_accounts import requests_to, stub_account
from tests.support.quoting import market_row, resting
from tests.support.sockets import ask, socket_for

HTMX = {"HTTP_HX_REQUEST": "true"}
REDIS_DOWN = "Redis is unreachable"


def _point_everything_at(url: str, settings, monkeypatch) -> None:
    settings.REDIS_URL = url
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {"hosts": [{"address": url}]}}}
    monkeypatch.setattr(locks, "_client", None)
    monkeypatch.setitem(celery_app.conf, "broker_url", _celery_broker(url))
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)


@pytest.fixture
def private_redis(settings, monkeypatch):
    """Every Redis client of this process (tick locks, channel layer, Celery's broker) on a
    private server the test may stop; yields the server."""
    folder = tempfile.mkdtemp(prefix="ballast-down-")
    server = EmbeddedRedis(Path(folder) / "redis.sock").start()
    _point_everything_at(server.url, settings, monkeypatch)
    assert locks.client().ping()  # pooled connections made while it was up, as on a live desk
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)
    locks.forget_unreachable()


@pytest.fixture
def redis_down(private_redis):
    private_redis.stop()
    assert not locks.reachable()


def post(client, path: str, **data):
    return client.post(path, data, **HTMX)


def command_url(market, command: str) -> str:
    return reverse("market-command", args=[market.slug, command])


@pytest.mark.parametrize(
    ("command", "state", "said"),
    [
        ("pause", Market.PAUSED, "BTC/USDT paused; 10 order(s) cancelled."),
        ("kill", Market.KILLED, "BTC/USDT killed; 10 order(s) cancelled."),
        ("cancel-all", Market.RUNNING, "BTC/USDT: 10 order(s) cancelled."),
    ],
)
def test_a_market_command_from_the_page_cancels_the_orders_with_redis_down(
    command, state, said, client, operator, running_market, redis_down
):
    client.force_login(operator)

    response = post(client, command_url(running_market, command), reason="redis is down")

    assert response.status_code == 200
    page = response.content.decode()
    assert said in page and REDIS_DOWN in page
    assert resting(running_market) == []
    assert market_row(running_market).state == state
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.reason, entry.details["canceled"]) == (
        command.replace("-", "_"), "redis is down", 10
    )


def test_the_desk_kill_switch_from_the_page_cancels_every_order_with_redis_down(
    client, operator, running_market, redis_down
):
    client.force_login(operator)

    response = post(client, reverse("desk-command", args=["kill-all"]), reason="redis is down")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Desk killed: every market stopped; 10 order(s) cancelled." in page and REDIS_DOWN in page
    assert resting(running_market) == []
    assert KillSwitch.is_engaged() and market_row(running_market).state == Market.KILLED
    assert AuditEntry.objects.get().action == "kill_all"


def test_the_shell_kills_the_desk_with_redis_down_and_again_when_it_is_engaged(
    running_market, redis_down
):
    out = io.StringIO()

    call_command("desk", "kill", "--all", "--reason", "redis is down", stdout=out)

    assert "Desk killed: every market stopped; 10 order(s) cancelled." in out.getvalue()
    assert resting(running_market) == [] and KillSwitch.is_engaged()
    assert market_row(running_market).state == Market.KILLED

    call_command("desk", "kill", "--all", "--reason", "once more", stdout=out)

    assert "already engaged" in out.getvalue().splitlines()[-1]
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["kill_all", "kill_all"]
    assert KillSwitch.current().reason == "redis is down"  # the first engagement is kept


@pytest.mark.django_db(transaction=True)
def test_a_fill_not_yet_captured_is_recorded_by_the_pause_for_the_sweeper_to_hedge(
    client, operator, running_market, private_redis
):
    # A user fills part of the MM bot's best bid; no worker captured it before Redis went down.
    user_trade(running_market, "sell", Decimal("0.01"))
    private_redis.stop()
    client.force_login(operator)

    response = post(client, command_url(running_market, "pause"), reason="redis is down")

    assert response.status_code == 200
    assert "BTC/USDT paused; 10 order(s) cancelled." in response.content.decode()
    # The fill's hedge could not be queued: it waits, recorded, for the hedge sweeper.
    [hedge] = Hedge.objects.all()
    assert hedge.state == Hedge.PENDING and hedge.fill.amount == Decimal("0.01")
    assert resting(running_market) == []


@pytest.mark.django_db(transaction=True)
async def test_a_socket_opened_before_redis_went_down_still_kills_the_market(
    running_market, operator, private_redis
):
    socket = await socket_for(operator, running_market)
    private_redis.stop()

    reply = await ask(socket, '{"command": "kill", "reason": "redis went down"}')

    assert reply["ok"].startswith("BTC/USDT killed; 10 order(s) cancelled.") and REDIS_DOWN in reply["ok"]
    assert await sync_to_async(resting)(running_market) == []
    row = await sync_to_async(market_row)(running_market)
    assert row.state == Market.KILLED
    await socket.disconnect()


@pytest.fixture
def binance_stub():
    clients.forget_clients()
    with BinanceStub(balances={"BTC": "1", "USDT": "100000"}) as stub:
        yield stub
    clients.forget_clients()


def test_a_market_on_a_ccxt_venue_cancels_past_the_request_budget_with_redis_down(
    client, operator, running_market, binance_stub, private_redis
):
    # The MM bot quotes on a real exchange's protocol, where every request takes from the
    # budget shared through Redis; with Redis down a stop's requests go without it.
    account = stub_account(binance_stub, role=Account.MARKET_MAKING)
    Market.objects.filter(pk=running_market.pk).update(mm_account=account)
    venue = venue_for(account)
    for price in ("60000", "60010", "60020"):
        venue.create_order("BTC/USDT", "limit", "buy", "0.001", price)
    private_redis.stop()
    client.force_login(operator)

    response = post(client, command_url(running_market, "cancel-all"), reason="redis is down")

    assert response.status_code == 200
    page = response.content.decode()
    assert "BTC/USDT: 3 order(s) cancelled." in page and REDIS_DOWN in page
    assert binance_stub.book.open_orders("bot") == []
    assert requests_to(binance_stub, "DELETE", "/api/v3/order") == 3
