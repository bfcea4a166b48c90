"""Serve the local exchange stubs for `make demo VENUES=stub`: the own exchange (a HollaEx Kit's
REST API and websocket) and the hedge venue (binance's REST API and websockets) on loopback, with users trading
on the own exchange at each demo market's users' rate and an outside book on the hedge venue.

Ballast reaches them only through ccxt and ccxt.pro, as it would real exchanges. They keep their
state in memory: a restart is a new exchange pair (bots/simulation/stub_exchanges/served.py).
"""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from bots.engine.simulation.flow import user_orders
from bots.management.commands.seed_demo import BOT_FUNDS, OWN_VENUE, START_PRICE
from bots.models import Market
from bots.simulation.stub_exchanges.served import ServedStubs


def users_markets() -> list[Market]:
    """The enabled markets the MM bot makes on the own stub, with users trading."""
    close_old_connections()
    return list(Market.objects.filter(
        enabled=True, sim_trades_per_minute__gt=0, mm_account__venue__name=OWN_VENUE
    ))


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        funds = {asset: str(amount) for asset, amount in BOT_FUNDS.items()}
        stubs = ServedStubs(funds, START_PRICE)
        self.stdout.write(
            f"stubs: own exchange (hollaex) {stubs.own.base_url} and {stubs.own_ws.base_url}, "
            f"hedge venue (binance) {stubs.outside.base_url} and {stubs.outside_ws.base_url}"
        )
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        second = int(time.time())
        try:
            while not stopping:
                time.sleep(max(0.0, second + 1 - time.time()))
                second = int(time.time())
                stubs.move_outside(second)
                for market in users_markets():
                    stubs.users_trade(user_orders(
                        market.sim_seed, market.slug, second, market.sim_trades_per_minute,
                        market.sim_mean_amount,
                    ))
        finally:
            stubs.stop()
