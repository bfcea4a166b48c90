"""Every plain-SQL read of the hot paths answers what the ORM query it stands for answers: the
same rows, the same values, the same Decimals digit for digit (compared by repr), on SQLite and
PostgreSQL alike. The world is the demo market after real trading: MM quotes resting, user
fills captured, some hedged on two hedge venues and some still open, the dead man's switch armed.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from bots.engine import matching
from bots.engine.rules import MarketRules
from bots.hedging import capture, hedge_context
from bots.market_making import quoter, tick_reads
from bots.models import (
    Account,
    Fill,
    Hedge,
    HedgeSettings,
    Intervention,
    InterventionOrder,
    KillSwitch,
    Market,
    Order,
    PaperBalance,
    PaperCancelDeadline,
    PaperMarket,
    PaperOrder,
    PaperTrade,
)
from bots.platform import sql
from bots.venues import paper_store
from tests.support.hedging_world import add_hedge_venue, run_until_done, user_fills

pytestmark = pytest.mark.django_db
SYMBOL = "BTC/USDT"


@pytest.fixture
def world(hedging_market):
    market = hedging_market
    add_hedge_venue(market, "second", taker_fee="0.002")
    quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None)
    hedges = user_fills(market, random.Random(12), count=6, small_share=0.3)
    for hedge in hedges[:3]:
        run_until_done(hedge.pk)
    return Market.objects.get(pk=market.pk)


def same(plain, orm) -> None:
    """Equal, and equal in repr: a Decimal's digits and a datetime's zone too."""
    assert plain == orm
    assert repr(plain) == repr(orm)


def test_the_world_has_what_the_reads_look_at(world):
    # Otherwise the comparisons below could pass on empty answers.
    assert Hedge.objects.filter(fill__market=world, state__in=Hedge.CLOSED).exists()
    assert Hedge.objects.filter(fill__market=world).exclude(state__in=Hedge.CLOSED).exists()
    assert Order.objects.filter(market=world, state=Order.OPEN).exists()
    assert PaperTrade.objects.filter(account=world.hedge_account).exists()
    assert PaperCancelDeadline.objects.filter(account=world.mm_account).exists()


# --- the market-making tick's reads (bots/market_making/tick_reads.py) ------------------------


def test_recent_fills(world):
    stamps = sorted(Fill.objects.filter(market=world).values_list("timestamp", flat=True))
    for since in (0, stamps[len(stamps) // 2], stamps[-1] + 1):
        orm = Fill.objects.filter(market=world, timestamp__gte=since).values_list("side", "timestamp")
        same(sorted(tick_reads.recent_fills(world.pk, since)), sorted(orm))


def test_open_hedges(world):
    orm = (
        Hedge.objects.filter(fill__market=world).exclude(state__in=Hedge.CLOSED)
        .values_list("fill__side", "amount", "filled", "state", "created_at")
    )
    same(sorted(tick_reads.open_hedges(world.pk)), sorted(orm))


def test_live_orders(world):
    for account in (world.mm_account, world.hedge_account):
        orm = Order.objects.filter(
            market=world, account=account, state__in=[Order.OPEN, Order.SENDING]
        ).values_list("pk", "client_order_id", "exchange_order_id", "state")
        same(sorted(tick_reads.live_orders(world.pk, account.pk)), sorted(orm))


def test_extra_hedge_account_ids(world):
    orm = (
        Market.extra_hedge_accounts.through.objects.filter(market=world)
        .order_by("account_id").values_list("account_id", flat=True)
    )
    same(tick_reads.extra_hedge_account_ids(world.pk), list(orm))


@pytest.mark.parametrize("state", [Market.RUNNING, Market.PAUSED, Market.KILLED])
@pytest.mark.parametrize("engaged", [False, True])
def test_stopped(world, state, engaged):
    Market.objects.filter(pk=world.pk).update(state=state)
    KillSwitch.objects.update_or_create(pk=1, defaults={"engaged": engaged, "changed_at": timezone.now()})
    orm = (
        Market.objects.filter(pk=world.pk, state__in=Market.STOPPED).exists()
        or KillSwitch.objects.filter(pk=1, engaged=True).exists()
    )
    same(tick_reads.stopped(world.pk), orm)


def test_markets_quoted_by(world):
    accounts = [world.mm_account_id, world.hedge_account_id]
    for ids, symbol in ((accounts, SYMBOL), (accounts[1:], SYMBOL), (accounts, "ETH/USDT"), ([], SYMBOL)):
        orm = Market.objects.filter(
            mm_account_id__in=ids, symbol=symbol, enabled=True, kind=Market.BOOK
        ).order_by("id").values_list("id", "mm_account_id")
        same(capture.markets_quoted_by(ids, symbol), list(orm))


# --- the fill capture's reads (bots/hedging/capture.py) ---------------------------------------


def test_market_for_capture(world):
    plain = capture.market_for_capture(world.pk)
    orm = Market.objects.select_related("mm_account__venue").get(pk=world.pk)

    same(values(plain, capture.CAPTURE_MARKET_FIELDS), values(orm, capture.CAPTURE_MARKET_FIELDS))
    same(values(plain.mm_account, hedge_context.ACCOUNT_FIELDS),
         values(orm.mm_account, hedge_context.ACCOUNT_FIELDS))
    same(values(plain.mm_account.venue, hedge_context.VENUE_FIELDS),
         values(orm.mm_account.venue, hedge_context.VENUE_FIELDS))
    with pytest.raises(Market.DoesNotExist):
        capture.market_for_capture(world.pk + 1000)


def test_recorded_fills(world):
    fills = list(Fill.objects.filter(market=world).values_list("venue_id", "trade_id"))
    venue_id = fills[0][0]
    asked = [trade_id for _, trade_id in fills[::2]] + ["no-such-trade"]
    for ids in (asked, asked[-1:], []):
        orm = Fill.objects.filter(venue_id=venue_id, trade_id__in=ids).values_list("trade_id", flat=True)
        same(capture.recorded(venue_id, ids), set(orm))
    assert capture.recorded(venue_id + 1000, asked) == set()


def test_intervention_orders(world, operator):
    now = timezone.now()
    intervention = Intervention.objects.create(
        market=world, kind=Intervention.BUYBACK, where="own", account=world.mm_account,
        amount=D("1"), minutes=5, price_limit=D("70000"), reference=D("65000"),
        origin=Intervention.MANUAL, reason="test", proposed_by=operator,
    )

    def order(number, state, exchange_id, seconds_ago, account=world.mm_account):
        InterventionOrder.objects.create(
            intervention=intervention, account=account, number=number,
            client_order_id=f"iv-{number}", side="buy", amount=D("0.1"), limit_price=D("70000"),
            state=state, exchange_order_id=exchange_id,
            sent_at=now - timedelta(seconds=seconds_ago),
        )

    order(1, InterventionOrder.DONE, "x-1", 5)
    order(2, InterventionOrder.DONE, "x-2", 500)
    order(3, InterventionOrder.DONE, "x-3", 5, account=world.hedge_account)
    asked = ["x-1", "x-2", "x-3", "x-4"]

    def orm(ids):
        since = timezone.now() - timedelta(seconds=capture.IN_FLIGHT_SECONDS)
        rows = InterventionOrder.objects.filter(account_id=world.mm_account_id).filter(
            Q(state=InterventionOrder.SENDING, sent_at__gt=since) | Q(exchange_order_id__in=ids)
        ).values_list("state", "exchange_order_id")
        return None if any(s == InterventionOrder.SENDING for s, _ in rows) else {e for _, e in rows}

    for ids in (asked, asked[2:], []):
        same(capture.intervention_orders(world.mm_account_id, ids), orm(ids))
    assert capture.intervention_orders(world.mm_account_id, asked) == {"x-1", "x-2"}
    order(4, InterventionOrder.SENDING, "", 2 * capture.IN_FLIGHT_SECONDS)  # stuck: no longer holds
    same(capture.intervention_orders(world.mm_account_id, asked), orm(asked))
    order(5, InterventionOrder.SENDING, "", 1)  # in flight: capture waits
    assert orm(asked) is None
    same(capture.intervention_orders(world.mm_account_id, asked), None)


# --- what a hedge run reads about its market (bots/hedging/hedge_context.py) ------------------


def orm_context(market_id: int):
    market = Market.objects.select_related("quote_settings").get(pk=market_id)
    settings = HedgeSettings.objects.filter(market=market).first() or HedgeSettings(market=market)
    accounts = sorted(
        Account.objects.select_related("venue").filter(
            Q(pk=market.hedge_account_id) | Q(extra_hedge_markets=market)
        ).distinct(),
        key=lambda a: (a.pk != market.hedge_account_id, a.pk),
    )
    return market, settings, accounts


def values(instance, names) -> list:
    return [getattr(instance, name) for name in names]


@pytest.mark.parametrize("own_settings", [False, True])
def test_hedge_context(world, own_settings):
    if own_settings:
        HedgeSettings.objects.create(
            market=world, max_notional=D("123456.123456789012345678"), ladder_steps=5,
            ladder_step_bps=D("2.5"), ladder_pause_ms=70,
        )
    plain = hedge_context.load(world.pk)
    market, settings, accounts = orm_context(world.pk)

    same(values(plain.market, hedge_context.MARKET_FIELDS), values(market, hedge_context.MARKET_FIELDS))
    same(plain.slippage_bps, market.quote_settings.hedge_slippage_bps)
    fields = [*hedge_context.SETTING_FIELDS, "market_id"]
    same(values(plain.settings, fields), values(settings, fields))
    assert len(accounts) == 2
    same(
        [values(a, hedge_context.ACCOUNT_FIELDS) for a in plain.accounts],
        [values(a, hedge_context.ACCOUNT_FIELDS) for a in accounts],
    )
    same(
        [values(a.venue, hedge_context.VENUE_FIELDS) for a in plain.accounts],
        [values(a.venue, hedge_context.VENUE_FIELDS) for a in accounts],
    )


# --- the paper venue's reads (bots/venues/paper_store.py) -------------------------------------


def test_paper_market(world):
    venue_id = world.mm_account.venue_id
    for lock in (False, True):
        plain = paper_store.market(venue_id, SYMBOL, lock=lock)
        orm = PaperMarket.objects.get(venue_id=venue_id, symbol=SYMBOL)
        same((plain.id, plain.symbol, plain.last_id), (orm.pk, orm.symbol, orm.last_id))
        same(plain.rules, MarketRules(
            symbol=orm.symbol, base=orm.base, quote=orm.quote, price_tick=orm.price_tick,
            amount_step=orm.amount_step, min_amount=orm.min_amount, min_cost=orm.min_cost,
            maker_fee=orm.maker_fee, taker_fee=orm.taker_fee,
        ))
    assert paper_store.market(venue_id, "ETH/USDT") is None


def open_paper_orders(venue_id: int, **filters):
    return PaperOrder.objects.filter(venue_id=venue_id, symbol=SYMBOL, status="open", **filters)


def test_paper_depth(world):
    for venue_id in (world.mm_account.venue_id, world.hedge_account.venue_id):
        levels: dict[str, dict] = {"buy": {}, "sell": {}}
        for side, price, amount, filled in open_paper_orders(venue_id).values_list(
            "side", "price", "amount", "filled"
        ):
            levels[side][price] = levels[side].get(price, D(0)) + amount - filled
        orm = sorted(levels["buy"].items(), reverse=True), sorted(levels["sell"].items())
        assert orm[0] and orm[1]
        same(paper_store.depth(venue_id, SYMBOL), orm)


def as_matching_order(row: PaperOrder) -> matching.Order:
    return matching.Order(
        id=row.order_id, account=str(row.account_id), side=row.side, type=row.type,
        amount=row.amount, price=row.price, client_order_id=row.client_order_id,
        time_in_force=row.time_in_force, timestamp=row.timestamp, seq=row.seq,
        filled=row.filled, cost=row.cost, fee=row.fee, status=row.status,
    )


def test_paper_open_orders(world):
    venue_id = world.hedge_account.venue_id
    ask = open_paper_orders(venue_id, side="sell").order_by("-price").first()
    bid = open_paper_orders(venue_id, side="buy").order_by("price").first()
    cases = [
        ({}, {}),
        ({"account_id": ask.account_id}, {"account_id": ask.account_id}),
        ({"order_id": ask.order_id}, {"order_id": ask.order_id}),
        ({"side": "sell"}, {"side": "sell"}),
        ({"side": "sell", "price_bound": ask.price}, {"side": "sell", "price__lte": ask.price}),
        ({"side": "buy", "price_bound": bid.price}, {"side": "buy", "price__gte": bid.price}),
        ({"side": "buy", "account_id": bid.account_id, "order_id": bid.order_id, "price_bound": bid.price},
         {"side": "buy", "account_id": bid.account_id, "order_id": bid.order_id, "price__gte": bid.price}),
    ]
    for arguments, filters in cases:
        orm = [as_matching_order(row) for row in open_paper_orders(venue_id, **filters).order_by("seq")]
        assert orm
        same(paper_store.open_orders(venue_id, SYMBOL, **arguments), orm)


def paper_trades(venue_id: int, **filters):
    own_order = PaperOrder.objects.filter(venue_id=OuterRef("venue_id"), order_id=OuterRef("order_id"))
    return PaperTrade.objects.filter(venue_id=venue_id, **filters).annotate(
        order_type=Subquery(own_order.values("type")[:1])
    )


def as_trade(row: PaperTrade) -> tuple[str, matching.Trade, str | None]:
    return row.symbol, matching.Trade(
        id=row.trade_id, order_id=row.order_id, client_order_id=row.client_order_id,
        account=str(row.account_id), side=row.side, price=row.price, amount=row.amount,
        cost=row.cost, fee=row.fee, fee_currency=row.fee_currency,
        taker_or_maker=row.taker_or_maker, timestamp=row.timestamp,
    ), row.order_type


def test_paper_my_trades(world):
    for account in (world.mm_account, world.hedge_account):
        venue_id = account.venue_id
        mine = paper_trades(venue_id, account=account)
        stamps = sorted(mine.values_list("timestamp", flat=True))
        assert len(stamps) >= 2
        middle = stamps[len(stamps) // 2]
        cases = [
            ((SYMBOL, None, None), mine.filter(symbol=SYMBOL).order_by("timestamp", "id")),
            ((None, middle, None), mine.filter(timestamp__gte=middle).order_by("timestamp", "id")),
            ((None, middle, 1), mine.filter(timestamp__gte=middle).order_by("timestamp", "id")[:1]),
            ((None, None, 2), reversed(mine.order_by("-timestamp", "-id")[:2])),
            (("ETH/USDT", None, None), mine.filter(symbol="ETH/USDT")),
        ]
        for (symbol, since, limit), orm in cases:
            same(
                paper_store.my_trades(venue_id, account.pk, symbol, since, limit),
                [as_trade(row) for row in orm],
            )


def test_paper_order_trades(world):
    venue_id = world.hedge_account.venue_id
    order_ids = sorted(set(PaperTrade.objects.filter(venue_id=venue_id).values_list("order_id", flat=True)))
    wanted = [*order_ids[:3], "no-such-order"]
    orm: dict[str, list] = {order_id: [] for order_id in wanted}
    for row in paper_trades(venue_id, order_id__in=wanted).order_by("timestamp", "id"):
        orm[row.order_id].append(as_trade(row)[1])
    same(paper_store.order_trades(venue_id, wanted), orm)
    same(paper_store.order_trades(venue_id, []), {})


def test_paper_balances(world):
    ids = [world.mm_account_id, world.hedge_account_id]
    for assets in (None, ["BTC"], ["USDT", "ETH"]):
        orm = PaperBalance.objects.filter(account_id__in=ids)
        if assets is not None:
            orm = orm.filter(asset__in=assets)
        same(
            sorted(paper_store.balances(ids, assets)),
            sorted(orm.values_list("account_id", "asset", "free", "used")),
        )


def test_paper_due_switches(world):
    venue_id = world.mm_account.venue_id
    [deadline] = PaperCancelDeadline.objects.filter(account=world.mm_account).values_list(
        "deadline", flat=True
    )
    for now in (deadline - 1, deadline, deadline + 1):
        orm = PaperCancelDeadline.objects.filter(venue_id=venue_id, deadline__lte=now).order_by(
            "account_id"
        ).values_list("account_id", "deadline")
        same(paper_store.due_switches(venue_id, now), list(orm))


# --- the one module's own reader (bots/platform/sql.py), as the hedge claim uses it -----------


@pytest.mark.parametrize("model", [Hedge, Fill, Order])
def test_rows_read_through_a_reader_are_what_the_orm_loads(world, model):
    reader = sql.Reader(model, "r")
    found = sql.fetchall(
        f"SELECT {reader.columns} FROM {sql.table(model)} r ORDER BY {sql.column(model, 'id', 'r')}",  # noqa: S608
        [],
    )
    plain = [reader.build(row) for row in found]
    orm = list(model.objects.order_by("id"))
    assert len(orm) >= 3
    names = [f.attname for f in model._meta.concrete_fields]
    same([values(row, names) for row in plain], [values(row, names) for row in orm])
    assert all(not row._state.adding for row in plain)


def test_an_insert_and_an_update_write_what_the_orm_reads_back(world):
    fill = sql.insert(Fill(
        venue=world.mm_account.venue, account=world.mm_account, market=world, trade_id="plain-t1",
        order_id="o", side="buy", price=D("65000.5"), amount=D("0.125"), cost=D("8125.0625"),
        timestamp=1,
    ))
    hedge = sql.insert(Hedge(
        fill=fill, account=world.hedge_account, client_order_id="plain-1", side="sell",
        amount=D("0.000000000000000001"), expected_price=D("65000.123456789012345678"),
    ))
    changed = sql.update(Hedge, {"id": hedge.pk, "state": Hedge.PENDING}, filled=D("1E-18"))
    hedge.filled = D("1E-18")

    assert changed == 1
    assert values(fill, [f.attname for f in Fill._meta.concrete_fields]) == values(
        Fill.objects.get(pk=fill.pk), [f.attname for f in Fill._meta.concrete_fields]
    )
    names = [f.attname for f in Hedge._meta.concrete_fields]
    orm = Hedge.objects.get(pk=hedge.pk)
    assert values(hedge, names) == values(orm, names)
    same(orm.amount, D("0.000000000000000001"))


@pytest.mark.parametrize("count", [2, 3, 200])
def test_rows_written_in_one_statement_are_what_the_orm_writes(world, count, monkeypatch):
    """The paper venue writes a request's balances, orders and trades a statement per table
    (bots/venues/paper_store.py: _update, _insert), in chunks under SQLite's old limit of
    parameters: each row reads back as the ORM's own update or create of it does."""
    from django.db import connection

    monkeypatch.setattr(paper_store, "MAX_PARAMS", 60)  # a few chunks even for small counts
    accounts = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    existing = list(PaperBalance.objects.filter(account_id__in=accounts).order_by("pk"))
    assert len(existing) >= 3
    wanted = {
        (row.account_id, row.asset): (D(i) + D("0.000000000000000001"), -D(i) / 8 if i % 2 else D("-0"))
        for i, row in enumerate(existing[:count])
    }
    untouched = {(row.account_id, row.asset): (row.free, row.used) for row in existing[count:]}
    new = {f"N{i}": (D(i) / 3, D("1E-18")) for i in range(count)}
    money = paper_store.BALANCE_MONEY

    def read(account_ids) -> dict:
        return {
            (row.account_id, row.asset): (row.free, row.used)
            for row in PaperBalance.objects.filter(account_id__in=account_ids)
        }

    with connection.cursor() as cursor:
        paper_store._update(cursor, PaperBalance, money, ("account_id", "asset"), [
            ([a, asset], paper_store._money(PaperBalance, money, values))
            for (a, asset), values in wanted.items()
        ])
        paper_store._insert(cursor, PaperBalance, ("account_id", "asset", *money), [
            [accounts[0], asset, *paper_store._money(PaperBalance, money, values)]
            for asset, values in new.items()
        ])
    plain = read(accounts)

    for (a, asset), (free, used) in wanted.items():
        PaperBalance.objects.filter(account_id=a, asset=asset).update(free=free, used=used)
    for asset, (free, used) in new.items():
        PaperBalance.objects.create(account_id=accounts[1], asset=asset, free=free, used=used)
    orm = read(accounts)

    for key in wanted:
        same(plain[key], orm[key])
    for key, values in untouched.items():
        same(plain[key], values)
    for asset in new:
        same(plain[(accounts[0], asset)], orm[(accounts[1], asset)])
