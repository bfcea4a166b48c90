"""A pause, kill or cancel-all reads the MM account's balances once its orders are cancelled, so
the Balances card stops showing funds "in orders" at once rather than at the first tick after a
resume; a venue that cannot be read for balances does not fail the stop."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.market_making import operator_commands
from bots.models import BalanceSnapshot, Market
from bots.treasury import balances
from bots.treasury.balances import refresh_balances
from bots.venues import ccxt_errors as ccxt
from bots.venues import venue_for
from tests.support.quoting import Faulty, market_row, resting

pytestmark = pytest.mark.django_db

STOPS = [
    (operator_commands.pause_market, Market.PAUSED),
    (operator_commands.kill_market, Market.KILLED),
    (operator_commands.cancel_all, Market.RUNNING),
]


def in_orders(market: Market) -> dict[str, Decimal]:
    """The MM account's latest "in orders" figure per asset, as the Balances card reads it."""
    rows = balances.latest_balances([market.mm_account], [market.base, market.quote])
    return {asset: row.used for (_, asset), row in rows.items()}


@pytest.fixture
def quoting_market(running_market):
    """The running market with its balances read while its quotes rest, as a tick leaves them."""
    refresh_balances(running_market.mm_account, [running_market.base, running_market.quote])
    assert all(used > 0 for used in in_orders(running_market).values())
    return running_market


@pytest.mark.parametrize(("command", "state"), STOPS)
def test_a_stop_shows_the_funds_free_again_at_once(command, state, quoting_market, operator):
    command(quoting_market, reason="maintenance", user=operator)

    assert market_row(quoting_market).state == state and resting(quoting_market) == []
    assert in_orders(quoting_market) == {"BTC": 0, "USDT": 0}


def test_the_desk_kill_switch_shows_the_funds_free_again_at_once(quoting_market, operator):
    operator_commands.kill_all(reason="maintenance", user=operator)

    assert in_orders(quoting_market) == {"BTC": 0, "USDT": 0}


@pytest.mark.parametrize("error", [ccxt.NetworkError, ccxt.PermissionDenied])
def test_a_stop_stands_when_the_balances_cannot_be_read(error, quoting_market, operator, monkeypatch):
    budget = {"left": 1, "calls": []}
    monkeypatch.setattr(
        balances, "venue_for", lambda account: Faulty(venue_for(account), "fetch_balance", error, budget)
    )
    before = BalanceSnapshot.objects.count()

    outcome = operator_commands.pause_market(quoting_market, reason="maintenance", user=operator)

    assert outcome.message == "BTC/USDT paused; 10 order(s) cancelled."
    assert budget["calls"] == ["fetch_balance"] and budget["left"] == 0
    assert market_row(quoting_market).state == Market.PAUSED and resting(quoting_market) == []
    assert BalanceSnapshot.objects.count() == before  # the next tick reads them
