"""Create the demo: one BTC/USDT market between a paper "own exchange" and a paper "external
exchange", funded bot accounts, simulated users, an operator login and two admin logins
(printed: four-eyes needs one admin to propose a change and another to confirm it).

With `--venues stub` the two venues are ccxt venues instead, a HollaEx stub and a binance stub
that `manage.py stubs` serves on loopback (`make demo VENUES=stub`): the stubs hold the funds and
the users, and Ballast reaches them through ccxt and ccxt.pro as it would real exchanges."""

from __future__ import annotations

import secrets
import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from bots.desk import roles, two_factor
from bots.engine.simulation.flow import users_rate_ceiling
from bots.models import (
    Account,
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
from bots.simulation.paper_flow import move_outside_markets
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.simulation.stub_exchanges.served import outside_options, own_options
from bots.venues.paper import PaperVenue

START_PRICE = Decimal("65000")
MARKET_RULES = {
    "base": "BTC",
    "quote": "USDT",
    "price_tick": Decimal("0.01"),
    "amount_step": Decimal("0.00001"),
    "min_amount": Decimal("0.00001"),
    "min_cost": Decimal("5"),
}
# The own exchange charges users; its own bot quotes free. The outside venue charges both.
OWN_FEES = {"maker_fee": Decimal("0"), "taker_fee": Decimal("0.001")}
OUTSIDE_FEES = {"maker_fee": Decimal("0.001"), "taker_fee": Decimal("0.001")}
BOT_FUNDS = {"BTC": Decimal("2"), "USDT": Decimal("130000")}
# The hedge floor sits 13 bps from the outside mid (1 bp of its half spread, its 10 bps taker
# fee, 0 maker fee here, a 2 bps buffer): 15 bps spreads quote just outside it and earn ~2 bps.
DEMO_QUOTES = {
    "bid_spread_bps": Decimal("15"),
    "ask_spread_bps": Decimal("15"),
    "hedge_buffer_bps": Decimal("2"),
    "filled_order_delay_seconds": Decimal("2"),
    "max_unhedged_base": Decimal("0.5"),
    "max_trades_per_minute": 90,
}
DEMO_SLUG = "btc-usdt"
DEMO_TRADES_PER_MINUTE = 12  # simulated users' rate on a new demo
MAX_USERS_RATE = 600  # Market.sim_trades_per_minute's bound
DEEP_FUNDS = {"BTC": Decimal("1000000"), "USDT": Decimal("100000000000")}
OWN_VENUE, OUTSIDE_VENUE = "own", "external"
PAPER, STUB = "paper", "stub"
# The stubs limit nothing; a real exchange's limit is set the same way (docs/operations.md).
STUB_CLIENT_OPTIONS = {"rateLimit": 10, "timeout": 3000}


def _account(venue: Venue, name: str, role: str, funds: dict[str, Decimal], stub=None) -> Account:
    """An account with paper funds, or with the API keys of the stub class given."""
    account, created = Account.objects.get_or_create(venue=venue, name=name, defaults={"role": role})
    if created:
        for asset, amount in funds.items():
            PaperBalance.objects.create(account=account, asset=asset, free=amount)
        if stub is not None:
            account.set_credentials(stub.API_KEY, stub.SECRET)
            account.save()
    return account


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--username", default="operator")
        parser.add_argument(
            "--trades-per-minute",
            type=float,
            default=None,
            help=f"Simulated users' rate (0 stops them; a new demo starts at {DEMO_TRADES_PER_MINUTE:g})",
        )
        parser.add_argument(
            "--venues",
            choices=[PAPER, STUB],
            default=PAPER,
            help="paper venues (the default), or the local exchange stubs through ccxt",
        )
        parser.add_argument(
            "--new-password",
            action="store_true",
            help="Give the logins new passwords and print them (a new login always gets one)",
        )

    @transaction.atomic
    def handle(
        self, *args, username: str, trades_per_minute, venues: str, new_password: bool, **options
    ):
        if username in DEMO_ADMINS:
            raise CommandError(f"{username} is one of the demo's admins: pick another --username")
        rate = DEMO_TRADES_PER_MINUTE if trades_per_minute is None else trades_per_minute
        if trades_per_minute is not None:
            check_users_rate(trades_per_minute)
        if venues == STUB:
            own, outside, mm, hedge = seed_stub_venues()
        else:
            own, outside, mm, hedge = seed_paper_venues()
        market, created = Market.objects.get_or_create(
            slug=DEMO_SLUG,
            defaults={
                "symbol": "BTC/USDT",
                "mm_account": mm,
                "hedge_account": hedge,
                "target_base": BOT_FUNDS["BTC"] * 2,
                "sim_trades_per_minute": rate,
            },
        )
        QuoteSettings.objects.get_or_create(market=market, defaults=DEMO_QUOTES)
        MarketTargets.for_market(market)  # the playbook's flagship defaults
        if venues == PAPER:
            seed_rebalancing(own, outside, mm, hedge)
            # The outside market's book exists from the start, so the first tick has a reference.
            move_outside_markets(int(time.time()))
        if not created and trades_per_minute is not None:
            Market.objects.filter(pk=market.pk).update(sim_trades_per_minute=trades_per_minute)
        market.refresh_from_db(fields=["sim_trades_per_minute"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {market.symbol}, simulated users at "
                f"{market.sim_trades_per_minute:g} trades/min."
            )
        )
        self.stdout.write(self.style.SUCCESS(login(username, new_password)))
        self.stdout.write(two_factor_line(username))
        self.stdout.write(admin_lines(new_password))


def two_factor_line(username: str) -> str:
    """Operators log in with a code too (bots.desk.two_factor): the demo's login gets its
    authenticator at once, and this says how to read its code."""
    device = two_factor.enrol_for_demo(User.objects.get(username=username))
    if not two_factor.required():
        return "Two-factor log-in is off (BALLAST_TWO_FACTOR=false)."
    return (
        f"Then the two-factor code: `{manage_py('demo_code', username)}` prints it, "
        f"or add the key {two_factor.secret_of(device)} to an authenticator app"
    )


def manage_py(*args: str) -> str:
    """A manage.py command as whoever ran `make demo` can paste it into their shell: the
    checkout's Python, and the demo's folder when it is not the default one (`make demo
    VENUES=stub` keeps its own database in var/stub, and a command without it reads the paper
    demo's)."""
    command = " ".join([".venv/bin/python manage.py", *args])
    var_dir = settings.VAR_DIR.resolve()
    if var_dir == (settings.BASE_DIR / "var").resolve():
        return command
    try:
        shown = var_dir.relative_to(settings.BASE_DIR.resolve())
    except ValueError:
        shown = var_dir
    return f"BALLAST_VAR_DIR={shown} {command}"


def seed_paper_venues() -> tuple[Venue, Venue, Account, Account]:
    own = _venue(OWN_VENUE, {"label": "Own exchange", "kind": Venue.PAPER})
    outside = _venue(OUTSIDE_VENUE, {"label": "External exchange", "kind": Venue.PAPER})
    PaperMarket.objects.get_or_create(
        venue=own, symbol="BTC/USDT", defaults={**MARKET_RULES, **OWN_FEES}
    )
    PaperMarket.objects.get_or_create(
        venue=outside,
        symbol="BTC/USDT",
        defaults={**MARKET_RULES, **OUTSIDE_FEES, "reference_price": START_PRICE},
    )
    mm = _account(own, "MM bot", Account.MARKET_MAKING, BOT_FUNDS)
    _account(own, "Simulated users", Account.USERS, DEEP_FUNDS)
    hedge = _account(outside, "Hedging bot", Account.HEDGING, BOT_FUNDS)
    _account(outside, "Outside liquidity", Account.LIQUIDITY, DEEP_FUNDS)
    return own, outside, mm, hedge


def seed_stub_venues() -> tuple[Venue, Venue, Account, Account]:
    """The own exchange on the HollaEx stub, the hedge venue on the binance stub; the stubs hold
    the bots' funds (BOT_FUNDS) and the users. Rebalancing is left out: the stubs move no funds
    between them."""
    own = _venue(OWN_VENUE, {
        "label": "Own exchange (HollaEx stub)", "kind": Venue.CCXT, "exchange_id": "hollaex",
        "options": {**own_options(), **STUB_CLIENT_OPTIONS},
    })
    outside = _venue(OUTSIDE_VENUE, {
        "label": "External exchange (Binance stub)", "kind": Venue.CCXT, "exchange_id": "binance",
        "options": {**outside_options(), **STUB_CLIENT_OPTIONS},
    })
    mm = _account(own, "MM bot", Account.MARKET_MAKING, {}, HollaExStub)
    hedge = _account(outside, "Hedging bot", Account.HEDGING, {}, BinanceStub)
    return own, outside, mm, hedge


def _venue(name: str, defaults: dict) -> Venue:
    venue, _ = Venue.objects.get_or_create(name=name, defaults=defaults)
    if venue.kind != defaults["kind"]:
        raise CommandError(
            f"This database's demo has {venue.kind} venues, not {defaults['kind']} ones: seed the "
            "other kind in a database of its own (make demo VENUES=stub keeps its own, in var/stub)."
        )
    return venue


def check_users_rate(rate: float) -> None:
    """Refuse a rate the demo market cannot take without its trade limiter stopping it."""
    if not 0 <= rate <= MAX_USERS_RATE:
        raise CommandError(f"--trades-per-minute must be between 0 and {MAX_USERS_RATE}, not {rate:g}")
    existing = QuoteSettings.objects.filter(market__slug=DEMO_SLUG).first()
    limit = existing.max_trades_per_minute if existing else DEMO_QUOTES["max_trades_per_minute"]
    ceiling = users_rate_ceiling(limit)
    if ceiling is not None and rate > ceiling:
        raise CommandError(
            f"--trades-per-minute {rate:g} is more than the market's trade limiter allows: it "
            f"holds the market at {limit} fills a minute, and a user order fills about 1.5 "
            f"levels, in bursts. Give at most {ceiling:g}, or raise 'Trades per minute' on "
            "the market's settings page first."
        )


def login(username: str, new_password: bool) -> str:
    """Create the operator login when absent; otherwise leave it be unless a new password is
    asked for. Either way the line returned is true: a printed password is the one that works."""
    password = _password(username, roles.OPERATOR, new_password)
    if password is None:
        return (
            f"Log in at http://127.0.0.1:8000 as  {username}  with its password as it was "
            f"(`{manage_py('seed_demo', '--new-password')}` sets and prints a new one)"
        )
    return f"Log in at http://127.0.0.1:8000 as  {username}  with password  {password}"


# Two admins, not tied to each other (neither made the other): what one proposes on the Changes
# page (a role, a rebalance policy, a withdrawal key), the other confirms (bots.desk.four_eyes).
DEMO_ADMINS = ("admin", "admin2")


def admin_lines(new_password: bool) -> str:
    """The admins' logins, each with an authenticator like the operator's, as short lines."""
    lines = ["Admins, for the Exchanges and Changes pages (what one proposes, the other confirms):"]
    width = max(map(len, DEMO_ADMINS))
    for username in DEMO_ADMINS:
        password = _password(username, roles.ADMIN, new_password)
        two_factor.enrol_for_demo(User.objects.get(username=username))
        shown = "its password as it was" if password is None else f"password  {password}"
        lines.append(f"  {username:<{width}}  with {shown}")
    if two_factor.required():
        first, *others = DEMO_ADMINS
        lines.append(f"  their codes: `{manage_py('demo_code', first)}` (or {', '.join(others)})")
    return "\n".join(lines)


def _password(username: str, role: str, new_password: bool) -> str | None:
    """A new password for a new login or when one is asked for (returned), else None."""
    user, created = User.objects.get_or_create(username=username)
    if not (created or new_password):
        return None
    password = secrets.token_urlsafe(9)
    user.set_password(password)
    user.save()
    user.groups.add(roles.group(role))
    return password


# --- rebalancing: bands around the starting balances, a policy and fee table per asset, and each
# bot account's paper deposit addresses whitelisted (usable at once: the demo is set up before
# anyone trades, so there is nothing to cool off from).
DEMO_BANDS = {  # asset: (minimum, target, maximum, reserve), the same for both bot accounts
    "BTC": (Decimal("1"), Decimal("2"), Decimal("3"), Decimal("0.1")),
    "USDT": (Decimal("65000"), Decimal("130000"), Decimal("195000"), Decimal("5000")),
}
DEMO_NETWORKS = {  # asset: (network, fee, minimum, step); paper transfers arrive in a minute
    "BTC": ("BTC", Decimal("0.0002"), Decimal("0.001"), Decimal("0.00000001")),
    "USDT": ("TRC20", Decimal("1"), Decimal("10"), Decimal("0.000001")),
}
# A single demo operator can approve the refills the demo needs; more needs two operators.
DEMO_TWO_APPROVERS_ABOVE = {"BTC": Decimal("2"), "USDT": Decimal("150000")}


def seed_rebalancing(own: Venue, outside: Venue, mm: Account, hedge: Account) -> None:


    for asset, (minimum, target, maximum, reserve) in DEMO_BANDS.items():
        RebalancePolicy.objects.get_or_create(
            asset=asset, defaults={"two_approvers_above": DEMO_TWO_APPROVERS_ABOVE[asset]}
        )
        network, fee, least, step = DEMO_NETWORKS[asset]
        for venue in (own, outside):
            WithdrawalNetwork.objects.get_or_create(
                venue=venue, asset=asset, network=network,
                defaults={"fee": fee, "minimum": least, "step": step, "arrival_minutes": 1},
            )
        for account in (mm, hedge):
            InventoryBand.objects.get_or_create(
                account=account, asset=asset,
                defaults={"minimum": minimum, "target": target, "maximum": maximum, "reserve": reserve},
            )
            if not WhitelistAddress.objects.filter(
                account=account, asset=asset, network=network, removed_at__isnull=True
            ).exists():
                address = PaperVenue(account).fetch_deposit_address(asset, {"network": network})
                WhitelistAddress.objects.create(
                    account=account, asset=asset, network=network, address=address["address"],
                    label="demo", usable_from=timezone.now(),
                )
