"""A simulated user trade, run by a real Celery worker through Redis, is hedged exactly once."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from bots.models import BalanceSnapshot, Fill, Hedge, HedgeOrder, PaperBalance, PaperOrder
from bots.simulation.tasks import simulated_user_trade

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the worker")


def balance(account, asset) -> Decimal:
    row = PaperBalance.objects.get(account=account, asset=asset)
    return row.free + row.used


def test_a_user_buy_is_filled_by_the_mm_bot_and_hedged_once(running_market, worker):
    market = running_market
    mm, hedge_account = market.mm_account, market.hedge_account
    before = {(a.pk, asset): balance(a, asset) for a in (mm, hedge_account) for asset in ("BTC", "USDT")}

    simulated_user_trade.delay(market.pk, "buy", "0.02")

    wait_for(lambda: Hedge.objects.filter(state__in=Hedge.FINAL).exists())
    time.sleep(1)  # anything sent twice would have arrived by now

    fill = Fill.objects.get()
    hedge = Hedge.objects.get()
    assert (fill.side, fill.amount) == ("sell", Decimal("0.02"))
    assert (hedge.fill, hedge.side, hedge.amount, hedge.state) == (fill, "buy", Decimal("0.02"), Hedge.FILLED)
    assert PaperOrder.objects.filter(account=hedge_account).count() == 1
    order = HedgeOrder.objects.get()
    assert (order.hedge, order.state, order.filled) == (hedge, HedgeOrder.DONE, Decimal("0.02"))

    # DOMAIN.md's chain reaction: MM -BTC +USDT, hedge +BTC -USDT, net BTC unchanged but for fees.
    mm_btc = balance(mm, "BTC") - before[(mm.pk, "BTC")]
    mm_usdt = balance(mm, "USDT") - before[(mm.pk, "USDT")]
    hedge_btc = balance(hedge_account, "BTC") - before[(hedge_account.pk, "BTC")]
    hedge_usdt = balance(hedge_account, "USDT") - before[(hedge_account.pk, "USDT")]
    assert mm_btc == Decimal("-0.02")
    assert mm_usdt == fill.cost  # the own venue charges its MM bot no maker fee
    assert hedge_btc == Decimal("0.02") - order.fee
    assert hedge_usdt == -order.cost == -(hedge.average_price * hedge.filled)
    assert mm_btc + hedge_btc == -order.fee
    # The exchange kept the spread: it sold above what the hedge paid.
    assert fill.price > hedge.average_price

    wait_for(lambda: BalanceSnapshot.objects.filter(account=hedge_account, asset="BTC").exists())
