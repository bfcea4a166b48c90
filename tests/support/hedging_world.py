"""A paper world for hedging tests: the demo market, a second hedge venue, resting MM quotes,
an in-process stand-in for Celery's retries, and the ledger check that balances equal records.
"""

from __future__ import annotations

import random
from collections import deque
from datetime import timedelta
from decimal import Decimal

from bots.hedging import hedger
from bots.hedging.capture import capture_fills
from bots.hedging.reconcile import due_for_sweep
from bots.models import (
    Account,
    Fill,
    Hedge,
    HedgeOrder,
    Market,
    PaperBalance,
    PaperMarket,
    PaperOrder,
    Venue,
)
from bots.simulation.paper_flow import move_outside_markets, user_trade
from bots.venues import venue_for
from bots.venues.paper import PaperVenue

D = Decimal
SYMBOL = "BTC/USDT"
DEEP = {"BTC": D("1000"), "USDT": D("100000000")}


def fund(account: Account, funds: dict[str, Decimal]) -> None:
    for asset, amount in funds.items():
        PaperBalance.objects.update_or_create(account=account, asset=asset, defaults={"free": amount, "used": 0})


def add_hedge_venue(market: Market, name: str, taker_fee: str, funds=None, min_cost="5") -> Account:
    """A second outside paper venue with its own liquidity, hedging for `market`."""
    venue = Venue.objects.create(name=name, label=f"Outside {name}", kind=Venue.PAPER)
    PaperMarket.objects.create(
        venue=venue, symbol=SYMBOL, base="BTC", quote="USDT", price_tick=D("0.01"),
        amount_step=D("0.00001"), min_amount=D("0.00001"), min_cost=D(min_cost),
        maker_fee=D("0.001"), taker_fee=D(taker_fee), reference_price=D("65000"),
    )
    hedge = Account.objects.create(venue=venue, name=f"hedge {name}", role=Account.HEDGING)
    liquidity = Account.objects.create(venue=venue, name=f"outside {name}", role=Account.LIQUIDITY)
    fund(hedge, funds or DEEP)
    fund(liquidity, {"BTC": D("1000000"), "USDT": D("100000000000")})
    market.extra_hedge_accounts.add(hedge)
    return hedge


def rest_mm_quotes(market: Market, amount: str = "200") -> None:
    """One deep bid and ask of the MM bot on the own venue, for users' orders to hit."""
    mm = PaperVenue(market.mm_account)
    mm.create_order(SYMBOL, "limit", "buy", D(amount), D("64980"), {"postOnly": True})
    mm.create_order(SYMBOL, "limit", "sell", D(amount), D("65020"), {"postOnly": True})


def set_faults(venue_name: str, rates: dict[str, float] | None, seed: int = 1, **extra) -> None:
    venue = Venue.objects.get(name=venue_name)
    options = dict(venue.options or {})
    if rates is not None:
        options["faults"] = {"seed": seed, "rates": rates, **extra}
    else:
        options.pop("faults", None)
    venue.options = options
    venue.save(update_fields=["options"])


def starting_balances(accounts) -> dict[tuple[int, str], Decimal]:
    return {
        (row.account_id, row.asset): row.free + row.used
        for row in PaperBalance.objects.filter(account__in=accounts)
    }


def balance_changes_recorded(market: Market) -> dict[tuple[int, str], Decimal]:
    """What the records say each account's totals moved by: the MM bot's fills, the hedge orders."""
    base, quote = SYMBOL.split("/")
    moves: dict[tuple[int, str], Decimal] = {}

    def add(account_id, asset, amount):
        moves[(account_id, asset)] = moves.get((account_id, asset), D(0)) + amount

    trades = [
        (f.account_id, f.side, f.amount, f.cost, f.fee, f.fee_currency)
        for f in Fill.objects.filter(market=market)
    ] + [
        (o.account_id, o.side, o.filled, o.cost, o.fee, o.fee_currency)
        for o in HedgeOrder.objects.filter(state=HedgeOrder.DONE, hedge__fill__market=market)
    ]
    for account_id, side, amount, cost, fee, fee_currency in trades:
        sign = 1 if side == "buy" else -1
        add(account_id, base, sign * amount)
        add(account_id, quote, -sign * cost)
        if fee:
            add(account_id, fee_currency, -fee)
    return moves


def assert_balances_equal_records(market: Market, start: dict) -> None:
    moves = balance_changes_recorded(market)
    now = starting_balances({account for account, _ in start})
    for key, before in start.items():
        assert now[key] == before + moves.get(key, D(0)), (
            f"account {key[0]} {key[1]}: venue {now[key]}, records {before + moves.get(key, D(0))}"
        )


def assert_no_hedge_order_sent_twice(market: Market) -> None:
    for account in market.hedge_accounts():
        on_venue = list(PaperOrder.objects.filter(account=account).values_list("client_order_id", flat=True))
        recorded = HedgeOrder.objects.filter(account=account)
        done = set(recorded.filter(state=HedgeOrder.DONE).values_list("client_order_id", flat=True))
        never = set(recorded.exclude(state=HedgeOrder.DONE).values_list("client_order_id", flat=True))
        assert len(on_venue) == len(set(on_venue)) == len(done), (len(on_venue), len(done))
        assert set(on_venue) == done
        assert not never & set(on_venue)


class Driver:
    """Celery's part, in process: run each intent, retry with a budget, queue the next step.

    An intent whose retries run out is dropped, as Celery drops a task past max_retries; only
    the sweeper brings it back. The budget is smaller than the task's 8, so that under heavy
    faults the sweeper has real work.
    """

    def __init__(self, max_retries: int = 8):
        self.max_retries = max_retries
        self.queue: deque[tuple[int, int]] = deque()
        self.runs = 0
        self.dropped = 0

    def push(self, hedge_id: int, retries: int = 0) -> None:
        self.queue.append((hedge_id, retries))

    def drain(self) -> None:
        while self.queue:
            hedge_id, retries = self.queue.popleft()
            self.runs += 1
            try:
                outcome = hedger.execute_hedge(hedge_id)
            except hedger.HedgeRetry:
                if retries < self.max_retries:
                    self.push(hedge_id, retries + 1)
                else:
                    self.dropped += 1
                continue
            if outcome.again_in is not None:
                self.push(hedge_id)
            for other in outcome.queue:
                self.push(other)

    def sweep(self) -> int:
        ids = due_for_sweep(after=timedelta(0))
        for hedge_id in ids:
            self.push(hedge_id)
        self.drain()
        return len(ids)


def user_fills(market: Market, rng: random.Random, count: int, small_share: float) -> list[Hedge]:
    """`count` simulated user market orders against the MM quotes; the hedges captured."""
    for _ in range(count):
        side = rng.choice(["buy", "sell"])
        if rng.random() < small_share:
            # 5.2 to 9.1 USDT: above the own venue's 5 USDT minimum, below the hedge venues' 10.
            amount = D(rng.randint(8, 14)) / 100000
        else:
            amount = D(rng.randint(100, 5000)) / 100000
        user_trade(market, side, amount)
    fills = capture_fills(market, venue_for(market.mm_account), lambda hedge_id: None)
    return [fill.hedge for fill in fills]


def refresh_outside(second: int) -> None:
    move_outside_markets(second)


def one_fill(market: Market, user_side: str, amount: str) -> Hedge:
    """A user order of `amount` against the MM quotes; the hedge intent its fill got."""
    user_trade(market, user_side, D(amount))
    [fill] = capture_fills(market, venue_for(market.mm_account), lambda hedge_id: None)
    return fill.hedge


def run_until_done(hedge_id: int, limit: int = 20) -> list[str]:
    """Run a hedge as its task would (retries and ladder steps included); the states seen."""
    seen = []
    for _ in range(limit):
        try:
            outcome = hedger.execute_hedge(hedge_id)
        except hedger.HedgeRetry:
            seen.append("retry")
            continue
        seen.append(outcome.state)
        if outcome.again_in is None:
            return seen
    return seen
