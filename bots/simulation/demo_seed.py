"""What the demo desk holds: its markets, venues, funded accounts and rebalancing, on paper.

Three markets on the own exchange, one MM bot account quoting all of them:

- BTC/USDT and ETH/USDT, flagship pairs, hedged on two outside venues: the external exchange,
  deep but 10 bps a trade, and a regional exchange, thin but 1.5 bps. The hedge router sends
  each hedge where its size costs least net of fee: the regional exchange while its (smaller)
  hedging bot can cover it, the external one beyond. The hedge floor prices each level the same
  way, so the MM bot's best levels, hedged on the regional book, sit tight (about 9 bps wide,
  under the playbook's 10), and its outer levels, once their cumulative size is more than the
  thin book holds, are priced against the deep one: together about $190k a side within 0.5%.
  BTC/USDT's price-action detectors are on: heavy net selling or buying by the users proposes
  a buyback or an unwind for an operator to approve.
- XHT/USDT (HollaEx's own token), a long-tail pair on the external exchange alone, whose book
  there is thin and wide: the MM bot quotes it 70 bps wide and about $1k deep, so its targets
  (30 bps, $10k within 0.5%) show red, which is what a breach looks like on the desk.

Three bot accounts (the MM bot, the hedging bot on each outside venue) hold every asset they
trade, each with rebalance bands, a withdrawal network per asset on each venue and each other's
deposit addresses whitelisted, so inventory across venues and transfers between any two show.

`seed(markets)` is idempotent: what exists is left as it is, what is missing is added (a demo
seeded with fewer markets gains the others). `seed(..., desk=MINIMAL)` seeds the demo as it was
before it had several markets: BTC/USDT alone, hedged on the external exchange alone, 2 BTC and
130,000 USDT a bot, 15 bps spreads (the 10 bps hedge fee allows no tighter, so out of the
flagship targets). It is the lightest demo, and what most tests build on (the `demo_market`
fixture): they were written for one market and one hedge venue. Only the paper venues;
`--venues stub` is seeded by the command itself (the stubs serve one market).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from bots.models import (
    Account,
    ApiClient,
    BrokerSettings,
    InterventionSettings,
    InventoryBand,
    Market,
    MarketTargets,
    PaperBalance,
    PaperMarket,
    QuoteSettings,
    RebalancePolicy,
    Venue,
    WhitelistAddress,
    WithdrawalNetwork,
)
from bots.otc import clients
from bots.simulation.paper_flow import move_outside_markets
from bots.treasury.balances import refresh_balances
from bots.venues.paper import PaperVenue

D = Decimal
OWN, EXTERNAL, REGIONAL = "own", "external", "regional"
# Fees per venue: the own exchange charges users, never its own bot; the outside venues charge
# both sides of every trade.
VENUES = {
    OWN: ("Own exchange", {"maker_fee": D("0"), "taker_fee": D("0.001")}),
    EXTERNAL: ("External exchange", {"maker_fee": D("0.001"), "taker_fee": D("0.001")}),
    REGIONAL: ("Regional exchange", {"maker_fee": D("0.00015"), "taker_fee": D("0.00015")}),
}
# Outside liquidity and simulated users never run dry.
DEEP_FUNDS = {
    "BTC": D("1000000"), "ETH": D("10000000"), "XHT": D("100000000000"), "USDT": D("100000000000"),
}


@dataclass(frozen=True)
class OutsideBook:
    """The book outside liquidity rests on one venue for one market (PaperMarket.book_*)."""

    spread_bps: Decimal
    levels: int
    spacing_bps: Decimal
    level_amount: Decimal
    growth: Decimal
    volatility_bps: Decimal

    def columns(self) -> dict:
        return {
            "book_spread_bps": self.spread_bps, "book_levels": self.levels,
            "book_level_spacing_bps": self.spacing_bps, "book_level_amount": self.level_amount,
            "book_amount_growth": self.growth, "volatility_bps": self.volatility_bps,
        }


@dataclass(frozen=True)
class DemoMarket:
    slug: str
    symbol: str
    start_price: Decimal
    rules: dict[str, Decimal]  # price_tick, amount_step, min_amount, min_cost
    quotes: dict  # QuoteSettings
    hedge_books: dict[str, OutsideBook]  # hedge venue -> its book; the first is the primary
    users_per_minute: float  # a new demo's simulated users
    users_mean_amount: Decimal
    seed: int = 7
    detectors: dict | None = None  # InterventionSettings; None: the detectors stay off

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1]


# Both flagship markets quote the same shape: a tight first level the regional venue can hedge
# cheaply, three times a user's mean order so that one order seldom takes it all (the spread
# would widen to the second level until the next tick), then levels growing outward.
FLAGSHIP_QUOTES = {
    "bid_spread_bps": D("4"),
    "ask_spread_bps": D("4"),
    "levels": 5,
    "level_spacing_bps": D("8"),
    "amount_growth": D("1.5"),
    "hedge_buffer_bps": D("1"),
    # 8 bps quoted leaves 2 bps to the 10 bps target, and the outside mid walks about 2 bps a
    # second. The side nearer the reference goes at once (the hedge floor), the side it left
    # behind only once it is off by the tolerance and has rested the refresh time: so both
    # are a second and 1 bp, or the spread spends that drift (at 2 s and 2 bps, one health
    # sample in four was 10-12 bps).
    "order_refresh_seconds": D("1"),
    "refresh_tolerance_bps": D("1"),
    # Each fill is hedged at once on deep venues, as a cross-exchange market maker does: no
    # pause after a fill, the taken level is back at the next tick (with 1 s, a fill's side
    # waited a tick more, at the second level 12 bps out).
    "filled_order_delay_seconds": D("0"),
    "max_trades_per_minute": 90,
}
# The price-action detectors watch BTC/USDT (bots/interventions, docs/interventions.md): the
# demo's users trade at random, 8 a minute of 0.05 BTC on average, both ways alike, so their net
# flow over 15 minutes is about 0.5 BTC typically, beyond 2 BTC (about $130k sold or bought
# net) in a handful of episodes a day, or at once when someone sells 2 BTC from the market page. The mid-move detector
# fires only if the own mid is 1% off the reference (a book swept bare). The inventory check
# stays off: the bands are the rebalance planner's, answered by a transfer, not a trade. A
# proposal waits for an operator's approval; nothing trades unapproved.
FLAGSHIP_DETECTORS = {
    "detect": True,
    "flow_window_minutes": 15,
    "flow_threshold": D("2"),
    "mid_move_pct": D("1"),
    "inventory_check": False,
    "cooldown_minutes": 60,
    "default_amount": D("0.5"),
    "duration_minutes": 30,
}
MARKETS = {
    m.slug: m
    for m in (
        DemoMarket(
            slug="btc-usdt", symbol="BTC/USDT", start_price=D("65000"),
            rules={"price_tick": D("0.01"), "amount_step": D("0.00001"),
                   "min_amount": D("0.00001"), "min_cost": D("5")},
            quotes={**FLAGSHIP_QUOTES, "level_amount": D("0.15"), "max_unhedged_base": D("0.5")},
            hedge_books={
                EXTERNAL: OutsideBook(D("2"), 25, D("2"), D("0.3"), D("0.25"), D("2")),
                REGIONAL: OutsideBook(D("2"), 10, D("1"), D("0.1"), D("0.25"), D("1")),
            },
            users_per_minute=8, users_mean_amount=D("0.05"), detectors=FLAGSHIP_DETECTORS,
        ),
        DemoMarket(
            slug="eth-usdt", symbol="ETH/USDT", start_price=D("3500"),
            rules={"price_tick": D("0.01"), "amount_step": D("0.0001"),
                   "min_amount": D("0.0001"), "min_cost": D("5")},
            quotes={**FLAGSHIP_QUOTES, "level_amount": D("2.7"), "max_unhedged_base": D("9")},
            hedge_books={
                EXTERNAL: OutsideBook(D("2"), 25, D("2"), D("5.5"), D("0.25"), D("2")),
                REGIONAL: OutsideBook(D("2"), 10, D("1"), D("1.9"), D("0.25"), D("1")),
            },
            users_per_minute=6, users_mean_amount=D("0.9"), seed=11,
        ),
        # Thin and wide: the outside book is 30 bps wide and about $5k a level, so the hedge
        # floor alone sits about 27 bps from the mid; the MM bot quotes 35 bps a side and small.
        DemoMarket(
            slug="xht-usdt", symbol="XHT/USDT", start_price=D("0.25"),
            rules={"price_tick": D("0.00001"), "amount_step": D("1"),
                   "min_amount": D("10"), "min_cost": D("1")},
            quotes={
                "bid_spread_bps": D("35"), "ask_spread_bps": D("35"), "levels": 3,
                "level_spacing_bps": D("25"), "level_amount": D("4000"), "amount_growth": D("0.5"),
                "hedge_buffer_bps": D("2"), "filled_order_delay_seconds": D("5"),
                "max_unhedged_base": D("40000"), "max_trades_per_minute": 90,
            },
            hedge_books={EXTERNAL: OutsideBook(D("30"), 10, D("10"), D("20000"), D("0.25"), D("3"))},
            users_per_minute=2, users_mean_amount=D("2000"), seed=13,
        ),
    )
}
ALL_MARKETS = tuple(MARKETS)

# Per account, per asset: its starting balance; unless the desk says otherwise, the band is
# half of it to one and a half times it, with 2.5% kept in reserve.
FULL_FUNDS = {
    ("MM bot", OWN): {"BTC": D("6"), "ETH": D("90"), "XHT": D("400000"), "USDT": D("600000")},
    ("Hedging bot", EXTERNAL): {
        "BTC": D("6"), "ETH": D("90"), "XHT": D("400000"), "USDT": D("600000"),
    },
    ("Hedging bot", REGIONAL): {"BTC": D("3"), "ETH": D("45"), "USDT": D("300000")},
}
ROLES = {OWN: Account.MARKET_MAKING, EXTERNAL: Account.HEDGING, REGIONAL: Account.HEDGING}
# asset: (network, fee, minimum, step); paper transfers arrive in a minute
NETWORKS = {
    "BTC": ("BTC", D("0.0002"), D("0.001"), D("0.00000001")),
    "ETH": ("ERC20", D("0.002"), D("0.01"), D("0.00000001")),
    "XHT": ("ERC20", D("50"), D("500"), D("1")),
    "USDT": ("TRC20", D("1"), D("10"), D("0.000001")),
}


@dataclass(frozen=True)
class Desk:
    markets: dict[str, DemoMarket]
    funds: dict[tuple[str, str], dict[str, Decimal]]  # (account name, venue) -> asset -> amount
    # A single demo operator can approve the refills the demo needs; more needs two operators.
    two_approvers_above: dict[str, Decimal]
    # asset -> (minimum, target, maximum, reserve) for every bot account; None: from the funds
    bands: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] | None = None

    def band(self, account: Account, asset: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        if self.bands is not None:
            return self.bands[asset]
        start = self.funds[(account.name, account.venue.name)][asset]
        return start / 2, start, start * D("1.5"), start / 40


FULL = Desk(
    markets=MARKETS,
    funds=FULL_FUNDS,
    two_approvers_above={"BTC": D("3"), "ETH": D("45"), "XHT": D("200000"), "USDT": D("300000")},
)
# The hedge floor sits 13 bps from the outside mid (1 bp of its half spread, its 10 bps taker
# fee, 0 maker fee here, a 2 bps buffer): 15 bps spreads quote just outside it and earn ~2 bps.
ONE_VENUE_QUOTES = {
    "bid_spread_bps": D("15"),
    "ask_spread_bps": D("15"),
    "hedge_buffer_bps": D("2"),
    "filled_order_delay_seconds": D("2"),
    "max_unhedged_base": D("0.5"),
    "max_trades_per_minute": 90,
}
MINIMAL_FUNDS = {"BTC": D("2"), "USDT": D("130000")}
MINIMAL = Desk(
    markets={
        "btc-usdt": DemoMarket(
            slug="btc-usdt", symbol="BTC/USDT", start_price=D("65000"),
            rules=MARKETS["btc-usdt"].rules, quotes=ONE_VENUE_QUOTES,
            hedge_books={EXTERNAL: OutsideBook(D("2"), 25, D("2"), D("0.3"), D("0.25"), D("2"))},
            users_per_minute=12, users_mean_amount=D("0.05"),
        )
    },
    funds={("MM bot", OWN): MINIMAL_FUNDS, ("Hedging bot", EXTERNAL): MINIMAL_FUNDS},
    two_approvers_above={"BTC": D("2"), "USDT": D("150000")},
    bands={
        "BTC": (D("1"), D("2"), D("3"), D("0.1")),
        "USDT": (D("65000"), D("130000"), D("195000"), D("5000")),
    },
)


def check_markets(slugs: list[str], desk: Desk = FULL) -> list[str]:
    unknown = [slug for slug in slugs if slug not in desk.markets]
    if unknown:
        raise ValueError(
            f"no demo market {', '.join(unknown)}: pick from {', '.join(desk.markets)}"
        )
    return list(dict.fromkeys(slugs))


def seed(slugs: list[str], users_per_minute: float | None = None, desk: Desk = FULL) -> list[Market]:
    """The paper demo with the markets named; `users_per_minute` None keeps each market's
    rate (a new market starts at its own)."""
    specs = [desk.markets[slug] for slug in check_markets(slugs, desk)]
    venue_names = [OWN, *dict.fromkeys(v for spec in specs for v in spec.hedge_books)]
    assets = sorted({a for spec in specs for a in (spec.base, spec.quote)})
    venues, accounts = {}, {}
    for name in venue_names:
        venues[name] = paper_venue(name)
        accounts[name] = bot_account(venues[name], desk, assets)
        users_or_liquidity(venues[name], assets)
    markets = [seed_market(spec, desk, venues, accounts, users_per_minute) for spec in specs]
    seed_rebalancing(desk, accounts, assets)
    # The outside books exist from the start, so the first tick has a reference.
    move_outside_markets(int(time.time()))
    return markets


def paper_venue(name: str) -> Venue:
    label, _fees = VENUES[name]
    venue, _ = Venue.objects.get_or_create(name=name, defaults={"label": label, "kind": Venue.PAPER})
    if venue.kind != Venue.PAPER:
        raise ValueError(
            f"This database's demo has {venue.kind} venues, not paper ones: seed the other kind "
            "in a database of its own (make demo VENUES=stub keeps its own, in var/stub)."
        )
    return venue


def bot_account(venue: Venue, desk: Desk, assets: list[str]) -> Account:
    """The venue's bot account, funded in the seeded markets' assets it trades."""
    name = "MM bot" if venue.name == OWN else "Hedging bot"
    account = _account(venue, name, ROLES[venue.name])
    funds = desk.funds[(name, venue.name)]
    _fund(account, {asset: amount for asset, amount in funds.items() if asset in assets})
    return account


def _account(venue: Venue, name: str, role: str) -> Account:
    return Account.objects.get_or_create(venue=venue, name=name, defaults={"role": role})[0]


def _fund(account: Account, funds: dict[str, Decimal]) -> None:
    """Starting balances for the assets the account does not hold yet (never a top-up)."""
    for asset, amount in funds.items():
        PaperBalance.objects.get_or_create(account=account, asset=asset, defaults={"free": amount})


def users_or_liquidity(venue: Venue, assets: list[str]) -> None:
    """The own exchange's simulated users, or an outside venue's liquidity: deep in every asset."""
    name, role = ("Simulated users", Account.USERS) if venue.name == OWN else (
        "Outside liquidity", Account.LIQUIDITY
    )
    _fund(_account(venue, name, role), {asset: DEEP_FUNDS[asset] for asset in assets})


def seed_market(
    spec: DemoMarket, desk: Desk, venues: dict[str, Venue], accounts: dict[str, Account],
    rate: float | None,
) -> Market:
    _label, own_fees = VENUES[OWN]
    rules = {"base": spec.base, "quote": spec.quote, **spec.rules}
    PaperMarket.objects.get_or_create(venue=venues[OWN], symbol=spec.symbol, defaults={**rules, **own_fees})
    for name, book in spec.hedge_books.items():
        _label, fees = VENUES[name]
        PaperMarket.objects.get_or_create(
            venue=venues[name], symbol=spec.symbol,
            defaults={**rules, **fees, **book.columns(), "reference_price": spec.start_price},
        )
    primary, *extra = spec.hedge_books
    bot_accounts = [accounts[OWN], *(accounts[name] for name in spec.hedge_books)]
    market, created = Market.objects.get_or_create(
        slug=spec.slug,
        defaults={
            "symbol": spec.symbol,
            "mm_account": accounts[OWN],
            "hedge_account": accounts[primary],
            # What the bot accounts hold of the base together: hedged trades leave it so.
            "target_base": sum(
                desk.funds[(a.name, a.venue.name)].get(spec.base, D(0)) for a in bot_accounts
            ),
            "sim_trades_per_minute": spec.users_per_minute if rate is None else rate,
            "sim_mean_amount": spec.users_mean_amount,
            "sim_seed": spec.seed,
        },
    )
    if created:
        market.extra_hedge_accounts.set([accounts[name] for name in extra])
    elif rate is not None:
        Market.objects.filter(pk=market.pk).update(sim_trades_per_minute=rate)
    QuoteSettings.objects.get_or_create(market=market, defaults=spec.quotes)
    if spec.detectors:
        InterventionSettings.objects.get_or_create(market=market, defaults=spec.detectors)
    MarketTargets.for_market(market)  # the playbook's defaults: flagship or long-tail
    market.refresh_from_db(fields=["sim_trades_per_minute"])
    return market


def seed_rebalancing(desk: Desk, accounts: dict[str, Account], assets: list[str]) -> None:
    """Bands around each bot account's starting balances, a policy and network per asset, and
    every bot account's paper deposit addresses whitelisted, usable at once (the demo is set up
    before anyone trades: there is nothing to cool off from)."""
    for asset in assets:
        RebalancePolicy.objects.get_or_create(
            asset=asset, defaults={"two_approvers_above": desk.two_approvers_above[asset]}
        )
        network, fee, least, step = NETWORKS[asset]
        holders = [a for a in accounts.values() if asset in desk.funds[(a.name, a.venue.name)]]
        for account in holders:
            WithdrawalNetwork.objects.get_or_create(
                venue=account.venue, asset=asset, network=network,
                defaults={"fee": fee, "minimum": least, "step": step, "arrival_minutes": 1},
            )
            minimum, target, maximum, reserve = desk.band(account, asset)
            InventoryBand.objects.get_or_create(
                account=account, asset=asset,
                defaults={"minimum": minimum, "target": target, "maximum": maximum, "reserve": reserve},
            )
            _whitelist(account, asset, network)


def _whitelist(account: Account, asset: str, network: str) -> None:
    if WhitelistAddress.objects.filter(
        account=account, asset=asset, network=network, removed_at__isnull=True
    ).exists():
        return
    address = PaperVenue(account).fetch_deposit_address(asset, {"network": network})
    WhitelistAddress.objects.create(
        account=account, asset=asset, network=network, address=address["address"],
        label="demo", usable_from=timezone.now(),
    )


# --- the OTC broker market: BTC/USDT as firm quotes for a size, sourced from an inventory
# account of its own on the own exchange and hedged on the external exchange like any fill
# (bots/otc, docs/otc.md).
BROKER_SLUG, BROKER_SYMBOL = "btc-usdt-otc", "BTC/USDT"
BROKER_FUNDS = {"BTC": D("5"), "USDT": D("300000")}
BROKER_HEDGE_FUNDS = {"BTC": D("5"), "USDT": D("300000")}
BROKER_CLIENT = "demo front end"
BROKER_CLIENT_REQUESTS_PER_MINUTE = 60


def seed_broker_market() -> Market:
    """The demo's broker market (what exists is left as it is). Needs the paper demo's own and
    external exchanges (`seed` first)."""
    own = Venue.objects.filter(name=OWN, kind=Venue.PAPER).first()
    hedge = Account.objects.filter(venue__name=EXTERNAL, venue__kind=Venue.PAPER,
                                   role=Account.HEDGING).first()
    if own is None or hedge is None:
        raise ValueError("no paper demo here: run `make demo` (or manage.py seed_demo) first")
    inventory = _account(own, "OTC inventory", Account.MARKET_MAKING)
    _fund(inventory, BROKER_FUNDS)
    # Accounts of its own at the hedge venue too, as an exchange would give its OTC desk: a
    # hedge account shared with the book market would count in both markets' net exposure.
    hedging = _account(hedge.venue, "OTC hedging", Account.HEDGING)
    _fund(hedging, BROKER_HEDGE_FUNDS)
    market, created = Market.objects.get_or_create(
        slug=BROKER_SLUG,
        defaults={"symbol": BROKER_SYMBOL, "kind": Market.BROKER, "mm_account": inventory,
                  "hedge_account": hedging},
    )
    QuoteSettings.objects.get_or_create(market=market)
    BrokerSettings.objects.get_or_create(market=market)
    if created:
        # The desk means to hold what both accounts start with: its net exposure starts at 0
        # and moves only when a quote is not hedged yet. Both balances are read now, as a tick
        # would for a book market (a broker market has none).
        market.target_base = sum(
            (f.get(market.base, D(0)) for f in (BROKER_FUNDS, BROKER_HEDGE_FUNDS)), D(0)
        )
        market.save(update_fields=["target_base"])
        for account in (inventory, hedging):
            refresh_balances(account, [market.base, market.quote])
    return market


def new_broker_client(name: str = BROKER_CLIENT) -> tuple[str, str]:
    """A new front-end API client and its token, shown this once: (name, token). A name taken
    already gets a '+' until it is free."""
    while ApiClient.objects.filter(name=name).exists():
        name += "+"
    _, token = clients.create(name, BROKER_CLIENT_REQUESTS_PER_MINUTE, None)
    return name, token
