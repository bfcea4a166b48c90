"""Create the demo desk: BTC/USDT, ETH/USDT and XHT/USDT on a paper "own exchange", hedged on
two paper outside venues, with funded bot accounts, rebalancing, simulated users, an operator
login and two admin logins (printed: four-eyes needs one admin to propose a change and another
to confirm it). What it seeds and why: bots/simulation/demo_seed.py and docs/simulation.md.

`--markets btc-usdt` seeds fewer markets (a lighter demo); `--minimal` the demo as it was with
one market and one hedge venue (the lightest, and what most tests build on).
With `--venues stub` the own exchange and the hedge venue are ccxt venues instead, a HollaEx
stub and a binance stub that `manage.py stubs` serves on loopback (`make demo VENUES=stub`):
the stubs hold the funds and the users, and Ballast reaches them through ccxt and ccxt.pro as
it would real exchanges. The stubs serve BTC/USDT alone, so the stub demo has that one market."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bots.desk import roles, two_factor
from bots.engine.simulation.flow import users_rate_ceiling
from bots.models import Account, ApiClient, Market, MarketTargets, QuoteSettings, Venue
from bots.simulation import demo_seed
from bots.simulation.stub_exchanges.binance import BinanceStub
from bots.simulation.stub_exchanges.hollaex import HollaExStub
from bots.simulation.stub_exchanges.served import outside_options, own_options

# The stub demo (`--venues stub`): BTC/USDT alone, the stubs' own funds and fees.
START_PRICE = Decimal("65000")
BOT_FUNDS = {"BTC": Decimal("2"), "USDT": Decimal("130000")}
STUB_QUOTES = demo_seed.ONE_VENUE_QUOTES  # the binance stub charges 10 bps, as the external venue
STUB_MARKETS = ("btc-usdt",)
STUB_TRADES_PER_MINUTE = 12  # the stub demo's users' rate on a new demo
MAX_USERS_RATE = 600  # Market.sim_trades_per_minute's bound
OWN_VENUE, OUTSIDE_VENUE = demo_seed.OWN, demo_seed.EXTERNAL
PAPER, STUB = "paper", "stub"
# The stubs limit nothing; a real exchange's limit is set the same way (docs/operations.md).
STUB_CLIENT_OPTIONS = {"rateLimit": 10, "timeout": 3000}


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--username", default="operator")
        parser.add_argument(
            "--markets",
            default=None,
            help=f"Comma-separated markets to seed, of {', '.join(demo_seed.ALL_MARKETS)} "
            "(default: all of them; the stub demo has btc-usdt alone)",
        )
        parser.add_argument(
            "--minimal",
            action="store_true",
            help="The lightest demo: BTC/USDT alone, hedged on the external exchange alone, at "
            "15 bps (out of the flagship targets); most tests build on it",
        )
        parser.add_argument(
            "--trades-per-minute",
            type=float,
            default=None,
            help="Simulated users' rate on each market seeded (0 stops them; a new demo starts "
            "each market at its own: BTC 8, ETH 6, XHT 2)",
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
        self, *args, username: str, markets, minimal: bool, trades_per_minute, venues: str,
        new_password: bool, **options,
    ):
        if username in DEMO_ADMINS:
            raise CommandError(f"{username} is one of the demo's admins: pick another --username")
        desk = demo_seed.MINIMAL if minimal else demo_seed.FULL
        slugs = chosen_markets(markets, venues, desk)
        if trades_per_minute is not None:
            check_users_rate(trades_per_minute, slugs, desk)
        if venues == STUB:
            seeded = [seed_stub_market(trades_per_minute)]
        else:
            try:
                seeded = demo_seed.seed(slugs, trades_per_minute, desk)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        for market in seeded:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo ready: {market.symbol}, simulated users at "
                    f"{market.sim_trades_per_minute:g} trades/min."
                )
            )
        if venues == PAPER and desk is demo_seed.FULL and markets is None:
            self.stdout.write(broker_lines())
        self.stdout.write(self.style.SUCCESS(login(username, new_password)))
        self.stdout.write(two_factor_line(username))
        self.stdout.write(admin_lines(new_password))


def broker_lines() -> str:
    """The whole paper demo has the OTC broker market too (docs/otc.md); its front-end client's
    token is printed when the client is new, as a password is."""
    market = demo_seed.seed_broker_market()
    lines = [f"OTC broker market: {market.symbol} as firm quotes ({market.slug}), on the OTC page."]
    if ApiClient.objects.filter(name=demo_seed.BROKER_CLIENT).exists():
        lines.append(
            f"  its API token as it was (`{manage_py('otc_demo')}` makes another, with curl lines)"
        )
    else:
        _, token = demo_seed.new_broker_client()
        lines.append(f"  API token for the {demo_seed.BROKER_CLIENT!r} client (shown once): {token}")
    return "\n".join(lines)


def chosen_markets(markets: str | None, venues: str, desk: demo_seed.Desk) -> list[str]:
    if venues == STUB:
        slugs = [s.strip() for s in (markets or STUB_MARKETS[0]).split(",") if s.strip()]
        if set(slugs) - set(STUB_MARKETS):
            raise CommandError(
                f"The stubs serve {', '.join(STUB_MARKETS)} alone: the stub demo has that market only."
            )
        return slugs
    if markets is None:
        return list(desk.markets)
    try:
        return demo_seed.check_markets([s.strip() for s in markets.split(",") if s.strip()], desk)
    except ValueError as exc:
        raise CommandError(f"--markets: {exc}") from exc


def seed_stub_market(rate: float | None) -> Market:
    own, outside, mm, hedge = seed_stub_venues()
    market, created = Market.objects.get_or_create(
        slug=STUB_MARKETS[0],
        defaults={
            "symbol": "BTC/USDT",
            "mm_account": mm,
            "hedge_account": hedge,
            "target_base": BOT_FUNDS["BTC"] * 2,
            "sim_trades_per_minute": STUB_TRADES_PER_MINUTE if rate is None else rate,
        },
    )
    QuoteSettings.objects.get_or_create(market=market, defaults=STUB_QUOTES)
    MarketTargets.for_market(market)  # the playbook's flagship defaults
    if not created and rate is not None:
        Market.objects.filter(pk=market.pk).update(sim_trades_per_minute=rate)
    market.refresh_from_db(fields=["sim_trades_per_minute"])
    return market


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
    mm = _stub_account(own, "MM bot", Account.MARKET_MAKING, HollaExStub)
    hedge = _stub_account(outside, "Hedging bot", Account.HEDGING, BinanceStub)
    return own, outside, mm, hedge


def _venue(name: str, defaults: dict) -> Venue:
    venue, _ = Venue.objects.get_or_create(name=name, defaults=defaults)
    if venue.kind != defaults["kind"]:
        raise CommandError(
            f"This database's demo has {venue.kind} venues, not {defaults['kind']} ones: seed the "
            "other kind in a database of its own (make demo VENUES=stub keeps its own, in var/stub)."
        )
    return venue


def _stub_account(venue: Venue, name: str, role: str, stub) -> Account:
    """An account on a stub, with the API keys of the stub class given (the stub holds its funds)."""
    account, created = Account.objects.get_or_create(venue=venue, name=name, defaults={"role": role})
    if created:
        account.set_credentials(stub.API_KEY, stub.SECRET)
        account.save()
    return account


def check_users_rate(rate: float, slugs: list[str], desk: demo_seed.Desk) -> None:
    """Refuse a rate a demo market cannot take without its trade limiter stopping it."""
    if not 0 <= rate <= MAX_USERS_RATE:
        raise CommandError(f"--trades-per-minute must be between 0 and {MAX_USERS_RATE}, not {rate:g}")
    for slug in slugs:
        existing = QuoteSettings.objects.filter(market__slug=slug).first()
        spec = desk.markets.get(slug)
        default = spec.quotes if spec else STUB_QUOTES
        limit = existing.max_trades_per_minute if existing else default["max_trades_per_minute"]
        ceiling = users_rate_ceiling(limit)
        if ceiling is not None and rate > ceiling:
            raise CommandError(
                f"--trades-per-minute {rate:g} is more than the {slug} market's trade limiter "
                f"allows: it holds the market at {limit} fills a minute, and a user order fills "
                f"about 1.5 levels, in bursts. Give at most {ceiling:g}, or raise 'Trades per "
                "minute' on the market's settings page first."
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
