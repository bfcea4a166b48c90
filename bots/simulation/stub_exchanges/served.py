"""The stubs served as an exchange pair for `make demo VENUES=stub` (`manage.py stubs`).

The own exchange is a HollaEx stub and the hedge venue a binance stub (each REST and websockets), on
fixed loopback ports that `seed_demo --venues stub` writes into the venues' ccxt options. What a
real exchange has around the bot, the stubs have here: users who send market orders to the own
exchange, and an outside book on the hedge venue whose price wanders and which every second is
laid again, so hedges always find liquidity. Both move from the same deterministic flow as the
paper venues' (bots/engine/simulation/flow.py).
"""

from __future__ import annotations

import time
from decimal import Decimal

from bots.engine.market_making.quoting import QuoteParams, quote_levels
from bots.engine.matching import Rejected
from bots.engine.rules import floor_to
from bots.engine.simulation.flow import UserOrder, random_walk_step
from bots.simulation.stub_exchanges import binance_ws, hollaex_ws
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.binance_ws import BinanceWsStub
from bots.simulation.stub_exchanges.exchange import RULES
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.simulation.stub_exchanges.hollaex_ws import HollaExWsStub

HOST = "127.0.0.1"
OWN_PORT, OUTSIDE_PORT, OUTSIDE_WS_PORT, OWN_WS_PORT = 8701, 8702, 8703, 8704
# Fewer levels than the paper outside book: every level laid again is a depth event streamed.
OUTSIDE_BOOK = QuoteParams(
    spread_bps=Decimal("2"),
    levels=10,
    level_spacing_bps=Decimal("2"),
    level_amount=Decimal("0.3"),
    amount_growth=Decimal("0.25"),
)
VOLATILITY_BPS = Decimal("2")


def own_options(port: int = OWN_PORT, ws_port: int = OWN_WS_PORT) -> dict:
    return hollaex_ws.ccxt_config(f"http://{HOST}:{port}", f"ws://{HOST}:{ws_port}")


def outside_options(port: int = OUTSIDE_PORT, ws_port: int = OUTSIDE_WS_PORT) -> dict:
    return binance_ws.ccxt_config(f"http://{HOST}:{port}", f"ws://{HOST}:{ws_port}")


class ServedStubs:
    def __init__(self, bot_funds: dict[str, str], start_price: Decimal,
                 ports: tuple[int, ...] = (OWN_PORT, OUTSIDE_PORT, OUTSIDE_WS_PORT, OWN_WS_PORT)):
        # Ids from the clock: a restarted stub never repeats one Ballast recorded before.
        first_id = int(time.time() * 1000)
        own_port, outside_port, ws_port, own_ws_port = ports
        self.own = HollaExStub(bot_funds, port=own_port, first_id=first_id)
        self.own_ws = HollaExWsStub(self.own, port=own_ws_port)
        self.outside = BinanceStub(bot_funds, port=outside_port, first_id=first_id)
        self.outside_ws = BinanceWsStub(self.outside, port=ws_port)
        self.price = start_price
        self.move_outside(int(time.time()))

    def move_outside(self, second: int) -> Decimal:
        """One step of the outside price, and its book laid again around it."""
        self.price = floor_to(
            random_walk_step(self.price, 1, "outside", second, VOLATILITY_BPS), RULES.price_tick
        )
        levels = quote_levels(self.price, OUTSIDE_BOOK, RULES)
        self.outside.lay_liquidity([(level.side, level.price, level.amount) for level in levels])
        return self.price

    def users_trade(self, orders: list[UserOrder]) -> int:
        """Users' market orders on the own exchange; how many found a book to trade with."""
        traded = 0
        for order in orders:
            amount = floor_to(order.amount, RULES.amount_step)
            if amount < RULES.min_amount:
                continue
            try:
                traded += bool(self.own.take(order.side, amount))
            except (IndexError, Rejected):  # no quote on that side (yet): the user goes away
                continue
        return traded

    def stop(self) -> None:
        self.outside_ws.stop()
        self.outside.stop()
        self.own_ws.stop()
        self.own.stop()
