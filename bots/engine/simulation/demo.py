"""The public simulation: Ballast's own engine on in-memory paper venues and a simulated clock.

Two matching books (bots.engine.matching) stand in for the venues: the own exchange, where the
MM bot quotes and users trade, and the external exchange, where the hedging bot hedges against
outside liquidity laid around the scenario's mid every second. Each simulated second runs, in
this order:

1. the outside mid moves (the scenario's path, plus any price shock) and its book is re-laid;
2. hedges still pending are tried again (the ladder of bots.engine.hedging.hedge_order.HedgeParams);
3. users trade (the scenario's, the visitor's, an arbitrageur's) against the MM bot's quotes,
   and each MM fill is hedged at once through bots.engine.hedging.hedge_routing.plan_route, as an IOC limit;
4. the MM bot ticks: bots.engine.market_making.tick.decide, in the order bots.market_making.quoter.MarketTick.run
   calls the engine (hedge floor and reference, protection, volatility, side gates,
   desired_quotes, plan_orders), and the own book carries out its plan;
5. a point of the time series is kept.

The rebalance suggestion is bots.engine.treasury.planner.plan over both accounts and both assets;
applying it moves the balances between the two books (instantly here; minutes in real life).
Everything is Decimal. The same scenario, seed, settings and actions give the same run.
"""

from __future__ import annotations

from collections import deque
from decimal import ROUND_HALF_EVEN, Decimal

from bots.engine.figures import in_asset, plain
from bots.engine.hedging.hedge_order import HedgeParams
from bots.engine.hedging.hedge_routing import VenueView, plan_route
from bots.engine.market_making import tick
from bots.engine.market_making.hedge_floor import HedgeFloor, HedgeVenue
from bots.engine.market_making.protection import SideGates, Unhedged
from bots.engine.market_making.quote_config import (
    DEFAULTS_BY_NAME,
    CheckContext,
    InvalidSettings,
    parse,
)
from bots.engine.market_making.quoting import Funds, QuoteParams, quote_levels
from bots.engine.market_making.refresh import RestingOrder
from bots.engine.matching import Balances, Book, Rejected
from bots.engine.rules import BPS, BUY, SELL, ZERO, MarketRules, floor_to
from bots.engine.simulation import price_action
from bots.engine.simulation.scenarios import get as get_scenario
from bots.engine.simulation.sim_inputs import (
    MAX_ACTIONS,
    MAX_PLAY_SECONDS,
    MAX_RUN_SECONDS,
    Action,
    InvalidInput,
    action_token,
    parse_settings,
)
from bots.engine.treasury import planner

D = Decimal
BTC, USDT = "BTC", "USDT"
MM, USERS, HEDGE, OUTSIDE = "mm", "users", "hedge", "outside"
LABELS = {MM: "the MM account", HEDGE: "the hedge account"}
START_PRICE = D("65000")
SECOND = 1000
# The same market rules and fees as the demo's paper venues (bots/management/commands/seed_demo).
OWN_RULES = MarketRules(
    "BTC/USDT", BTC, USDT, price_tick=D("0.01"), amount_step=D("0.00001"),
    min_amount=D("0.00001"), min_cost=D("5"), maker_fee=D("0"), taker_fee=D("0.001"),
)
OUTSIDE_MAKER_FEE = D("0.001")
OUTSIDE_BOOK = QuoteParams(
    spread_bps=D("2"), levels=12, level_spacing_bps=D("2"), level_amount=D("0.3"),
    amount_growth=D("0.25"),
)
DEEP = {BTC: D("1000000"), USDT: D("100000000000")}
DEMO_QUOTES = {
    "filled_order_delay_seconds": D("2"),
    "max_unhedged_base": D("0.5"),
    "max_trades_per_minute": 90,
}
HEDGE_PARAMS_LADDER = {"ladder_steps": 3, "ladder_step_bps": D("10"), "max_notional": D("1000000")}
# Withdrawal routes both ways, as in the demo: (network, fee, minimum, step).
NETWORKS = {
    BTC: ("BTC", D("0.0002"), D("0.001"), D("0.00000001")),
    USDT: ("TRC20", D("1"), D("10"), D("0.000001")),
}
MAX_FEE_SHARE = D("0.01")
RESERVE_SHARE = D("0.05")
SERIES_POINTS = 2000
CHAINS_KEPT = 100


class Simulation:
    """One visitor's run. Build with Simulation(scenario, seed, settings), drive with act()."""

    def __init__(self, scenario: str, seed: int, settings: dict | None = None):
        if not isinstance(seed, int) or not 0 <= seed <= 999_999_999:
            raise InvalidInput({"seed": "the seed must be a whole number 0 to 999999999"})
        self.scenario = get_scenario(scenario)
        self.seed = seed
        self.settings = parse_settings(settings)
        s = self.settings
        self.out_rules = MarketRules(
            "BTC/USDT", BTC, USDT, price_tick=D("0.01"), amount_step=D("0.00001"),
            min_amount=D("0.00001"), min_cost=D("5"), maker_fee=OUTSIDE_MAKER_FEE,
            taker_fee=s["fee"] / BPS,
        )
        try:
            self.config = parse(
                {**DEFAULTS_BY_NAME, **DEMO_QUOTES, "bid_spread_bps": s["spread"],
                 "ask_spread_bps": s["spread"], "hedge_buffer_bps": s["buffer"]},
                CheckContext(self.out_rules.taker_fee, OWN_RULES.maker_fee, START_PRICE),
            )
        except InvalidSettings as exc:
            names = {"ask_spread_bps": "spread", "bid_spread_bps": "spread", "hedge_buffer_bps": "buffer"}
            raise InvalidInput({names.get(k, "settings"): v for k, v in exc.problems.items()}) from None
        self.hedge_params = HedgeParams(self.config.hedge_slippage_bps, **HEDGE_PARAMS_LADDER)
        self.start = {MM: {BTC: s["mm_btc"], USDT: s["mm_usdt"]},
                      HEDGE: {BTC: s["hedge_btc"], USDT: s["hedge_usdt"]}}
        self.now_ms = 0
        self.second = 0  # the next second to simulate
        self.own = Book(OWN_RULES, balances=Balances(
            [(MM, a, v, ZERO) for a, v in self.start[MM].items()]
            + [(USERS, a, v, ZERO) for a, v in DEEP.items()]
        ), clock=self.clock)
        self.out = Book(self.out_rules, balances=Balances(
            [(HEDGE, a, v, ZERO) for a, v in self.start[HEDGE].items()]
            + [(OUTSIDE, a, v, ZERO) for a, v in DEEP.items()]
        ), clock=self.clock)
        self.mid = START_PRICE
        self.shock_pct = ZERO
        self.rate, self.buy_pct = s["rate"], s["buy"]
        self.venue_down = False
        # The MM bot's memory between ticks, as the market row keeps it live.
        self.memory = tick.TickMemory()
        self.sigma = ZERO
        self.fills: deque[tuple[str, int]] = deque()  # (MM side, ms) of the last minute
        self.first_tick = True
        self.state, self.state_reason = "running", ""
        self.sides: dict[str, dict] = {}
        self.hedges: list[dict] = []  # pending hedge jobs
        self.failed: list[tuple[str, Decimal]] = []  # (MM side, unhedged) of hedges given up
        self.chains: deque[dict] = deque(maxlen=CHAINS_KEPT)
        self.log: deque[dict] = deque(maxlen=CHAINS_KEPT)  # other happenings: holds, transfers
        self.actions: list[Action] = []
        self.totals = {
            "user_trades": 0, "refused": 0, "mm_fills": 0, "hedges_filled": 0,
            "hedges_failed": 0, "edge_kept": ZERO, "transfers": 0, "transfer_fees_usdt": ZERO,
        }
        self.series_count = 0
        self.series = {k: deque(maxlen=SERIES_POINTS) for k in (
            "t", "mid", "exposure", "skew_mm", "skew_hedge", "mm_btc", "hedge_btc")}
        self._suggestion: dict | None = None  # {} while every account is inside its bands
        self._suggestion_key: tuple = ()
        self.intervention: price_action.Intervention | None = None
        self._lay_outside()
        self._tick()
        self._point()

    def clock(self) -> int:
        return self.now_ms

    # --- driving ----------------------------------------------------------------------------

    def act(self, action: Action) -> None:
        """Apply one visitor action (see bots.engine.simulation.sim_inputs); InvalidInput changes nothing."""
        kind = action[0]
        seconds = {"play": action[1] if kind == "play" else 0, "buy": 1, "sell": 1, "shock": 1}
        needed = seconds.get(kind, 0)
        if kind == "play" and not 1 <= needed <= MAX_PLAY_SECONDS:
            raise InvalidInput({"seconds": f"play between 1 and {MAX_PLAY_SECONDS} seconds at a time"})
        if self.second + needed > MAX_RUN_SECONDS:
            raise InvalidInput({"seconds": (
                f"a run lasts at most {MAX_RUN_SECONDS} simulated seconds; start a new one")})
        merges = (kind == "play" and self.actions and self.actions[-1][0] == "play"
                  and self.actions[-1][1] + needed <= MAX_PLAY_SECONDS)
        if not merges and len(self.actions) >= MAX_ACTIONS:
            raise InvalidInput({"actions": (
                f"a run takes at most {MAX_ACTIONS} actions (its link replays them); start a new one")})
        if kind in ("buy", "sell"):
            self._run_second([("you", action[0], action[1])])
        elif kind == "shock":
            self.shock_pct += action[1]
            self._run_second([])
        elif kind == "play":
            for _ in range(needed):
                self._run_second([])
        elif kind == "intervene":
            if self.intervention is None or self.intervention.state != "proposed":
                raise InvalidInput({"intervene": "there is no intervention to approve"})
            self._note(price_action.approve(self, self.seed))
        elif kind == "apply":
            if not self.apply_suggestion():
                raise InvalidInput({"apply": "there is no transfer to apply: every account is in its bands"})
        elif kind == "flow":
            self.rate, self.buy_pct = action[1], action[2]
        else:
            raise InvalidInput({"action": f"unknown action {kind!r}"})
        # Consecutive plays merge, up to what one link token may say, so that a link stays short.
        if merges:
            self.actions[-1] = ("play", self.actions[-1][1] + needed)
        else:
            self.actions.append(action)

    def _run_second(self, extra: list[tuple[str, str, Decimal]]) -> None:
        second = self.second
        self.now_ms = second * SECOND + SECOND
        self.venue_down = self.scenario.venue_down(second)
        event = self.scenario.describe_event(second)
        if event:
            self._note(event)
        self.mid = self.scenario.next_mid(self.seed, second, self.mid)
        if self.shock_pct:
            self._note(f"price shock of {plain(self.shock_pct)}% on the outside market")
            self.mid = self.mid * (1 + self.shock_pct / 100)
            self.shock_pct = ZERO
        self.mid = floor_to(self.mid, self.out_rules.price_tick)
        self._lay_outside()
        for job in list(self.hedges):
            self._hedge(job)
        if self.scenario.arbitrageur:
            self._arbitrage()
        flow = self.scenario.orders(self.seed, second, self.rate, self.buy_pct, self.settings["size"])
        for who, order in flow:
            self.user_trade(who, order.side, order.amount)
        for who, side, amount in extra:
            self.user_trade(who, side, amount)
        self._tick()
        if self.scenario.price_action:
            for text in (price_action.step(self, HEDGE), price_action.watch(self, HEDGE, BTC, USDT)):
                if text:
                    self._note(text)
        self.second += 1
        self._point()

    # --- the outside market -------------------------------------------------------------------

    def _lay_outside(self) -> None:
        for order in self.out.open_orders(OUTSIDE):
            self.out.cancel(OUTSIDE, order.id)
        for level in quote_levels(self.mid, OUTSIDE_BOOK, self.out_rules):
            self.out.submit(OUTSIDE, level.side, "limit", level.amount, level.price)

    def _arbitrage(self) -> None:
        """Take every MM quote that a taker can lay off on the outside book at a profit."""
        own_fee, out_fee = OWN_RULES.taker_fee, self.out_rules.taker_fee
        out_bid = self.out.bids[0].price if self.out.bids else None
        out_ask = self.out.asks[0].price if self.out.asks else None
        if out_bid is not None:
            size = sum((o.remaining for o in self.own.asks
                        if o.price * (1 + own_fee) < out_bid * (1 - out_fee)), ZERO)
            if size > 0:
                self.user_trade("arbitrageur", BUY, min(size, D("2")))
        if out_ask is not None:
            size = sum((o.remaining for o in self.own.bids
                        if o.price * (1 - own_fee) > out_ask * (1 + out_fee)), ZERO)
            if size > 0:
                self.user_trade("arbitrageur", SELL, min(size, D("2")))

    # --- a user trade and its chain reaction --------------------------------------------------

    def user_trade(self, who: str, side: str, amount: Decimal) -> dict:
        """A user's market order on the own exchange, the MM fills and their hedge; the chain."""
        size = OWN_RULES.round_amount(amount)
        chain = {
            "n": self.totals["user_trades"] + self.totals["refused"] + 1,
            "t": self.second, "who": who, "side": side, "amount": plain(size),
            "fills": [], "filled": "0", "mm_side": SELL if side == BUY else BUY,
            "why": "", "hedge": None, "edge": None, "after": None,
        }
        try:
            if size <= 0:
                raise Rejected("invalid_order", f"{plain(amount)} BTC rounds to nothing")
            execution = self.own.submit(USERS, side, "market", size)
        except Rejected as exc:
            chain["why"] = self._refusal(side, str(exc))
            self.totals["refused"] += 1
            chain["after"] = self.balances()
            self.chains.append(chain)
            return chain
        self.totals["user_trades"] += 1
        fills = [t for t in execution.trades if t.account == MM]
        filled = sum((t.amount for t in fills), ZERO)
        chain["fills"] = [{"price": plain(t.price), "amount": plain(t.amount)} for t in fills]
        chain["filled"] = plain(filled)
        if filled < size:
            chain["why"] = (
                f"only {plain(filled)} of {plain(size)} BTC filled: the MM bot's "
                f"{'asks' if side == BUY else 'bids'} ran out ({self._side_text(chain['mm_side'])})"
            )
        if fills:
            mm_side = chain["mm_side"]
            self.totals["mm_fills"] += len(fills)
            for _ in fills:
                self.fills.append((mm_side, self.now_ms))
            quote = sum((t.cost - t.fee if mm_side == SELL else -t.cost for t in fills), ZERO)
            base = sum((-t.amount if mm_side == SELL else t.amount - t.fee for t in fills), ZERO)
            job = {
                "side": BUY if mm_side == SELL else SELL, "mm_side": mm_side, "amount": filled,
                "filled": ZERO, "cost": ZERO, "fee": ZERO, "step": 0, "since": self.now_ms,
                "final": False, "quote": quote, "base": base, "chain": chain,
            }
            chain["hedge"] = {"side": job["side"], "amount": plain(filled), "state": "pending",
                              "price": None, "why": ""}
            self.hedges.append(job)
            self._hedge(job)
        chain["after"] = self.balances()
        self.chains.append(chain)
        return chain

    def _refusal(self, side: str, message: str) -> str:
        book_side = "asks" if side == BUY else "bids"
        if "empty book" in message:
            mm_side = SELL if side == BUY else BUY
            return f"the MM bot quotes no {book_side}: {self._side_text(mm_side)}"
        return f"refused by the exchange: {message}"

    def _hedge(self, job: dict) -> None:
        """One attempt at a pending hedge, as the hedger does it: route, IOC limit, ladder."""
        view = job["chain"]["hedge"]
        if self.venue_down:
            view["why"] = "the hedge venue is unreachable (ExchangeNotAvailable): retried every second"
            return
        left = job["amount"] - job["filled"]
        venue = VenueView(
            "external", self.out_rules, self.out.depth(BUY), self.out.depth(SELL),
            self.out.balances.free(HEDGE, BTC), self.out.balances.free(HEDGE, USDT),
            label="the hedge account",
        )
        route = plan_route(job["side"], left, [venue], self.hedge_params, job["step"])
        placed = got = ZERO
        for child in route.orders:
            execution = self.out.submit(HEDGE, child.side, "limit", child.amount, child.limit_price,
                                        time_in_force="IOC")
            placed += child.amount
            for trade in (t for t in execution.trades if t.account == HEDGE):
                got += trade.amount
                job["cost"] += trade.cost
                if job["side"] == BUY:
                    job["base"] += trade.amount - trade.fee
                    job["quote"] -= trade.cost
                else:
                    job["base"] -= trade.amount
                    job["quote"] += trade.cost - trade.fee
        job["filled"] += got
        if job["filled"]:
            view["price"] = plain((job["cost"] / job["filled"]).quantize(D("0.01"), ROUND_HALF_EVEN))
        view["filled"] = plain(job["filled"])
        if job["amount"] - job["filled"] < self.out_rules.min_amount:
            self._hedge_done(job, "filled")
        elif got < placed:
            if job["step"] < self.hedge_params.ladder_steps:
                job["step"] += 1
                view["state"] = "partly filled" if job["filled"] else "pending"
                view["why"] = (f"{plain(left - got)} unfilled within the protection price; next try "
                               f"allows {plain(self.hedge_params.slippage_at(job['step']))} bps")
            else:
                view["why"] = "ladder exhausted: an operator decides (retry, manual, write-off)"
                self._hedge_done(job, "failed")
        else:
            view["state"] = "partly filled" if job["filled"] else "pending"
            view["why"] = (route.note or "not placed") + ": retried every second"

    def _hedge_done(self, job: dict, state: str) -> None:
        self.hedges.remove(job)
        job["final"] = True
        view, chain = job["chain"]["hedge"], job["chain"]
        view["state"] = state
        if state == "filled":
            view["why"] = ""
            self.totals["hedges_filled"] += 1
            # Edge: quote gained across both accounts, fees paid in BTC valued at the hedge price.
            price = job["cost"] / job["filled"]
            edge = (job["quote"] + job["base"] * price).quantize(D("0.01"), ROUND_HALF_EVEN)
            chain["edge"] = plain(edge)
            self.totals["edge_kept"] += edge
        else:
            self.totals["hedges_failed"] += 1
            self.failed.append((job["mm_side"], job["amount"] - job["filled"]))
        chain["after"] = self.balances()

    # --- the MM bot's tick --------------------------------------------------------------------

    def _floor(self) -> HedgeFloor:
        venues = []
        if not self.venue_down:
            venues.append(HedgeVenue(
                "external", self.out.depth(BUY), self.out.depth(SELL), self.out_rules.taker_fee,
                self.out.balances.free(HEDGE, BTC), self.out.balances.free(HEDGE, USDT),
            ))
        return HedgeFloor(venues, OWN_RULES.maker_fee, self.config.hedge_buffer_bps)

    def _tick(self) -> None:
        """The MM bot's tick: bots.engine.market_making.tick decides, the own book carries it out."""
        now = self.now_ms
        while self.fills and now - self.fills[0][1] >= 60 * SECOND:
            self.fills.popleft()
        funds = self._funds()
        unhedged = [Unhedged(j["mm_side"], j["amount"] - j["filled"], j["since"]) for j in self.hedges]
        unhedged += [Unhedged(side, left, None) for side, left in self.failed]
        decision = tick.decide(tick.TickInputs(
            self.config, now, self._floor(), OWN_RULES,
            [RestingOrder(o.id, o.side, o.price, o.remaining, o.timestamp)
             for o in self.own.open_orders(MM)],
            funds, list(self.fills), unhedged, refresh_all=self.first_tick,
        ), self.memory)
        self.memory, self.sigma = decision.memory, decision.sigma_bps
        if decision.action == tick.STAND:
            self._set_state("degraded", decision.why)
            return
        if decision.action == tick.HOLD:
            self._hold(decision.holder, decision.why)
            return
        self.first_tick = False
        plan = decision.plan
        for order_id, _why in plan.cancel:
            self.own.cancel(MM, order_id)
        notes = list(decision.quote.notes)
        for level in plan.place:
            try:
                self.own.submit(MM, level.side, "limit", level.amount, level.price,
                                time_in_force="PO" if self.config.post_only else "GTC")
            except Rejected as exc:
                notes.append(f"{level.side} at {plain(level.price)} refused: {exc}")
        self._set_state("running", "")
        self._describe_sides(decision.gates, notes, decision.allowance, plan.book)

    def _funds(self) -> Funds:
        b = self.own.balances
        base = b.free(MM, BTC) + b.used(MM, BTC)
        quote = b.free(MM, USDT) + b.used(MM, USDT)
        return Funds(base_total=base, quote_total=quote, base_available=base, quote_available=quote)

    def _hold(self, holder: str, why: str) -> None:
        for order in self.own.open_orders(MM):
            self.own.cancel(MM, order.id)
        text = f"{holder}: {why}"
        for side in (SELL, BUY):
            self.sides[side] = {"levels": 0, "text": f"not quoting ({text})"}
        self._set_state("holding", text)

    def _set_state(self, state: str, reason: str) -> None:
        if (state, reason) != (self.state, self.state_reason) and state != "running":
            self._note(f"MM bot {state}: {reason}")
        elif state == "running" and self.state != "running":
            self._note("MM bot quoting again")
        self.state, self.state_reason = state, reason

    def _describe_sides(self, gates: SideGates, notes: list[str], allowance: dict, book: list) -> None:
        b, o = self.own.balances, self.out.balances
        for side, asset, word in ((SELL, BTC, "asks"), (BUY, USDT, "bids")):
            levels = sum(1 for lv in book if lv.side == side)
            reasons = []
            if side in gates.stop:
                reasons.append(gates.stop[side])
            if side in gates.no_new:
                reasons.append("no new orders: " + gates.no_new[side])
            need = self.config.level_amount * (1 if side == SELL else (self.memory.reference or self.mid))
            if allowance[side] < need:
                held = b.free(MM, asset) + b.used(MM, asset)
                reasons.append(f"the MM account's {asset} pool is dry ({in_asset(held, asset)} {asset} "
                               f"left): it stops quoting {word}")
            hedge_asset = USDT if side == SELL else BTC
            hedge_free = o.free(HEDGE, hedge_asset)
            hedge_need = self.config.level_amount * (self.mid if side == SELL else 1)
            if hedge_free < hedge_need:
                reasons.append(
                    f"the hedge account's {hedge_asset} pool is dry ({in_asset(hedge_free, hedge_asset)} "
                    f"{hedge_asset} left): an {word[:-1]} it could not hedge is not quoted")
            reasons += [n for n in notes if n.startswith(side) or f" {side} " in n]
            text = f"quoting {levels} level{'s' if levels != 1 else ''}" if levels else "not quoting"
            if reasons:
                text += "; " + "; ".join(dict.fromkeys(reasons))
            self.sides[side] = {"levels": levels, "text": text}

    def _side_text(self, mm_side: str) -> str:
        return self.sides.get(mm_side, {}).get("text", "")

    # --- what the page shows ------------------------------------------------------------------

    def _note(self, text: str) -> None:
        self.log.append({"t": self.second, "text": text})

    def holding(self, account: str, asset: str) -> Decimal:
        book = self.own if account == MM else self.out
        return book.balances.free(account, asset) + book.balances.used(account, asset)

    def balances(self) -> dict[str, dict[str, str]]:
        return {a: {x: plain(self.holding(a, x)) for x in (BTC, USDT)} for a in (MM, HEDGE)}

    def exposure(self) -> Decimal:
        start = self.start[MM][BTC] + self.start[HEDGE][BTC]
        return self.holding(MM, BTC) + self.holding(HEDGE, BTC) - start

    def skew_pct(self, account: str) -> Decimal:
        start = self.start[account][BTC]
        if start <= 0:
            return ZERO
        return (self.holding(account, BTC) - start) / start * 100

    def _point(self) -> None:
        # Kept as the strings the page is sent: a visitor's state is pickled every step, and
        # strings pickle several times faster than Decimals.
        s = self.series
        s["t"].append(self.second)
        s["mid"].append(str(self.mid))
        s["exposure"].append(str(self.exposure()))
        s["skew_mm"].append(str(self.skew_pct(MM).quantize(D("0.01"))))
        s["skew_hedge"].append(str(self.skew_pct(HEDGE).quantize(D("0.01"))))
        s["mm_btc"].append(str(self.holding(MM, BTC)))
        s["hedge_btc"].append(str(self.holding(HEDGE, BTC)))
        self.series_count += 1

    def series_since(self, count: int) -> dict[str, list[str]]:
        """The points after the first `count` ever kept (those still held), as strings."""
        new = max(0, min(self.series_count - count, len(self.series["t"])))
        return {k: [str(v) for v in list(d)[len(d) - new:]] for k, d in self.series.items()}

    # --- rebalancing ----------------------------------------------------------------------------

    def bands(self) -> dict[tuple[str, str], planner.Band]:
        share = self.settings["band"] / 100
        return {
            (account, asset): planner.Band(start * (1 - share), start, start * (1 + share))
            for account in (MM, HEDGE) for asset, start in self.start[account].items() if start > 0
        }

    def _holdings(self) -> list[planner.Holding]:
        bands, result = self.bands(), []
        for account in (MM, HEDGE):
            book = self.own if account == MM else self.out
            for asset in (BTC, USDT):
                band = bands.get((account, asset))
                result.append(planner.Holding(
                    account, LABELS[account], asset, book.balances.free(account, asset),
                    self.holding(account, asset), band,
                    reserve=self.start[account][asset] * RESERVE_SHARE,
                ))
        return result

    def suggestion(self) -> dict | None:
        """The planner's transfers in words, or None while every account is inside its bands."""
        holdings = self._holdings()
        # The planner is the costliest part of a step: a step that moved no balance reuses it.
        key = tuple((h.account, h.asset, h.free, h.total) for h in holdings)
        if self._suggestion is not None and self._suggestion_key == key:
            return self._suggestion or None
        self._suggestion_key = key
        out = [h for h in holdings if h.band is not None and h.band.status(h.position) != planner.INSIDE]
        if not out:
            self._suggestion = {}
            return None
        routes = [
            planner.Route(src, dst, asset, net, fee, least, step, 60)
            for asset, (net, fee, least, step) in NETWORKS.items()
            for src, dst in ((MM, HEDGE), (HEDGE, MM))
        ]
        plans = planner.plan(holdings, routes, MAX_FEE_SHARE)
        transfers = [t for p in plans for t in p.transfers]
        left = [o for p in plans for o in p.out_of_band]
        self._suggestion = {
            "text": _in_words(transfers) if transfers else "no transfer can bring the accounts back",
            "transfers": [
                {"asset": t.asset, "from": t.source, "to": t.destination, "amount": plain(t.amount),
                 "fee": plain(t.fee)} for t in transfers
            ],
            "out_of_band": [planner.why(h) for h in out],
            "complete": not left,
            "left": [f"{o.label} {o.asset} stays {o.status_after} its band" for o in left],
        }
        return self._suggestion

    def apply_suggestion(self) -> bool:
        """Carry out the suggested transfers: withdraw at the source, deposit less the fee."""
        suggestion = self.suggestion()
        if not suggestion or not suggestion["transfers"]:
            return False
        for t in suggestion["transfers"]:
            amount, fee = D(t["amount"]), D(t["fee"])
            source = self.own if t["from"] == MM else self.out
            target = self.own if t["to"] == MM else self.out
            source.balances.withdraw(t["from"], t["asset"], amount)
            target.balances.deposit(t["to"], t["asset"], amount - fee)
            if t["asset"] == USDT:
                self.totals["transfer_fees_usdt"] += fee
            else:
                self.totals["transfer_fees_usdt"] += fee * self.mid
            self.totals["transfers"] += 1
        self._note("transfers applied: " + suggestion["text"])
        # The bot reads its balances at every tick: it quotes from the new ones at once.
        self._tick()
        self._point()
        return True

    # --- the run as data ------------------------------------------------------------------------

    def events(self) -> list[dict]:
        return list(self.chains) + list(self.log)

    def summary(self) -> dict:
        """The run as plain JSON-able values (strings for Decimals): trades, MM fills, hedges,
        edge kept, transfers, final balances, exposure, account skew, the suggestion."""
        t = self.totals
        suggestion = self.suggestion()
        return {
            "scenario": self.scenario.name, "seed": self.seed, "seconds": self.second,
            "settings": {k: plain(v) for k, v in self.settings.items()},
            "actions": ",".join(action_token(a) for a in self.actions),
            "user_trades": t["user_trades"], "refused_user_orders": t["refused"],
            "mm_fills": t["mm_fills"], "hedges_filled": t["hedges_filled"],
            "hedges_failed": t["hedges_failed"], "hedges_pending": len(self.hedges),
            "edge_kept_usdt": plain(t["edge_kept"]), "transfers_applied": t["transfers"],
            "transfer_fees_usdt": plain(t["transfer_fees_usdt"].quantize(D("0.01"))),
            "balances": self.balances(), "mid": plain(self.mid),
            "exposure_btc": plain(self.exposure()),
            "skew_pct": {MM: plain(self.skew_pct(MM).quantize(D("0.01"))),
                         HEDGE: plain(self.skew_pct(HEDGE).quantize(D("0.01")))},
            "mm_state": self.state, "mm_state_reason": self.state_reason,
            "quoting": {side: v["text"] for side, v in self.sides.items()},
            "suggestion": suggestion["text"] if suggestion else "",
            **({"intervention": self.intervention.view() if self.intervention else None}
               if self.scenario.price_action else {}),
        }


def _in_words(transfers: list) -> str:
    """"move 1.8 BTC from the hedge account to the MM account, 117,000 USDT the other way"."""
    first = transfers[0]
    parts = [f"move {in_asset(first.amount, first.asset)} {first.asset} from {LABELS[first.source]} "
             f"to {LABELS[first.destination]}"]
    for t in transfers[1:]:
        amount = f"{in_asset(t.amount, t.asset)} {t.asset}"
        if (t.source, t.destination) == (first.destination, first.source):
            parts.append(f"{amount} the other way")
        elif (t.source, t.destination) == (first.source, first.destination):
            parts.append(f"{amount} the same way")
        else:
            parts.append(f"{amount} from {LABELS[t.source]} to {LABELS[t.destination]}")
    return ", ".join(parts)
