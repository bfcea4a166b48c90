"""The stub demo's exchanges served to real processes (`manage.py up`, the restart drill): users
trading with the MM bot on the own stub, and the bot's trades there."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from bots.simulation.stub_exchanges import served
from bots.simulation.stub_exchanges.exchange import BOT

D = Decimal
FUNDS = {"BTC": "2", "USDT": "130000"}  # each stub account's, as served here


def serve() -> served.ServedStubs:
    return served.ServedStubs(FUNDS, D("65000"), ports=(0, 0, 0, 0))


def trade(stubs: served.ServedStubs, stop: threading.Event) -> None:
    """Users of the own exchange hitting the MM bot's quotes, two trades a second (120 a
    minute), and the hedge venue's outside book laid again every second (what `manage.py stubs`
    does for the demo)."""
    n = 0
    while not stop.wait(0.5):
        n += 1
        if n % 2 == 0:
            stubs.move_outside(int(time.time()))
        try:
            stubs.own.take("buy" if n % 3 else "sell", D("0.002") + D(n % 4) / 1000)
        except Exception:  # noqa: BLE001 - no quote on that side yet: the user goes away
            continue


def bot_trades(stub) -> list:
    return [t for t in stub.trades if t.account == BOT]
