"""The paper venue's dead man's switch (ccxt's cancelAllOrdersAfter), from the venue's side: once
an account's deadline has passed, the orders it had open then are cancelled before the venue
serves anyone, with no Ballast process running. A deadline "passes" here by moving it into the
past, as time would."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from bots.models import (
    Account,
    PaperBalance,
    PaperCancelDeadline,
    PaperMarket,
    PaperOrder,
    PaperTrade,
)
from bots.venues.paper import PaperVenue, now_ms
from tests.support.venue_contract import SYMBOL, balance, paper_contract

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def world():
    """The contract's paper venue: the bot, and a user who trades and rests orders of their own."""
    bot = paper_contract().venue
    account = Account.objects.create(venue=bot.venue, name="users", role=Account.USERS)
    PaperBalance.objects.bulk_create(
        PaperBalance(account=account, asset=asset, free=D(amount)) for asset, amount in (("BTC", "10"), ("USDT", "100000"))
    )
    return bot, PaperVenue(account)


def contract_liquidity(bot: PaperVenue) -> PaperVenue:
    return PaperVenue(Account.objects.get(venue=bot.venue, role=Account.LIQUIDITY))


def expire(venue: PaperVenue, at: int | None = None) -> None:
    """The account's deadline passes (at `at`, or now)."""
    PaperCancelDeadline.objects.filter(account=venue.account).update(deadline=at if at is not None else now_ms())


def test_an_expired_switch_pulls_the_quotes_before_a_user_trades_against_them(world):
    bot, user = world
    bot.create_order(SYMBOL, "limit", "sell", D("0.5"), D("100"))
    bot.create_order(SYMBOL, "limit", "buy", D("0.5"), D("99"))
    contract_liquidity(bot).create_order(SYMBOL, "limit", "sell", D("1"), D("101"))  # further out
    bot.cancel_all_orders_after(60_000)
    expire(bot)

    taken = user.create_order(SYMBOL, "market", "buy", D("0.2"))

    assert [t["price"] for t in taken["trades"]] == [D("101")]  # not the bot's 100
    assert not PaperTrade.objects.filter(account=bot.account).exists()
    assert bot.fetch_open_orders(SYMBOL) == []
    assert set(PaperOrder.objects.filter(account=bot.account).values_list("status", flat=True)) == {"canceled"}
    assert balance(bot, "BTC") == (D("1"), D("0")) and balance(bot, "USDT") == (D("10000"), D("0"))
    assert not PaperCancelDeadline.objects.exists()  # it fired once; a new tick arms it again


def test_any_request_applies_a_passed_deadline_first(world):
    bot, user = world
    for read in (
        lambda: user.fetch_order_book(SYMBOL),
        lambda: bot.fetch_open_orders(SYMBOL),
        lambda: bot.fetch_balance(),
        lambda: user.cancel_all_orders_after(0),
    ):
        bot.create_order(SYMBOL, "limit", "sell", D("0.5"), D("100"))
        bot.cancel_all_orders_after(60_000)
        expire(bot)
        read()
        assert not PaperOrder.objects.filter(account=bot.account, status="open").exists()


def test_a_switch_armed_again_in_time_keeps_the_quotes(world):
    bot, user = world
    bot.create_order(SYMBOL, "limit", "sell", D("0.5"), D("100"))
    bot.cancel_all_orders_after(1_000)
    bot.cancel_all_orders_after(60_000)

    taken = user.create_order(SYMBOL, "market", "buy", D("0.2"))

    assert [t["price"] for t in taken["trades"]] == [D("100")]
    deadline = PaperCancelDeadline.objects.get(account=bot.account).deadline
    assert now_ms() + 50_000 < deadline <= now_ms() + 60_000


def test_a_timeout_of_zero_disarms_it(world):
    bot, user = world
    bot.create_order(SYMBOL, "limit", "sell", D("0.5"), D("100"))
    bot.cancel_all_orders_after(60_000)

    answer = bot.cancel_all_orders_after(0)

    assert answer["triggerTime"] is None
    assert not PaperCancelDeadline.objects.exists()
    assert [o["price"] for o in bot.fetch_open_orders(SYMBOL)] == [D("100")]


def test_never_armed_the_quotes_live_on(world):
    bot, user = world
    bot.create_order(SYMBOL, "limit", "sell", D("0.5"), D("100"))
    # Another account's switch runs out: not the bot's orders' business.
    user.cancel_all_orders_after(60_000)
    expire(user)

    taken = user.create_order(SYMBOL, "market", "buy", D("0.2"))

    assert [t["price"] for t in taken["trades"]] == [D("100")]


def test_an_order_placed_after_the_deadline_outlives_it(world):
    """An order a concurrent request placed once the deadline had passed, before anyone applied
    it: the timer had already fired by then, as an exchange's would have."""
    bot, _ = world
    old = bot.create_order(SYMBOL, "limit", "sell", D("0.5"), D("100"))
    new = bot.create_order(SYMBOL, "limit", "sell", D("0.5"), D("102"))
    bot.cancel_all_orders_after(60_000)
    deadline = now_ms()
    PaperOrder.objects.filter(order_id=old["id"]).update(timestamp=deadline - 1)
    PaperOrder.objects.filter(order_id=new["id"]).update(timestamp=deadline + 1)
    expire(bot, deadline)

    assert [o["id"] for o in bot.fetch_open_orders(SYMBOL)] == [new["id"]]
    assert bot.fetch_order(old["id"], SYMBOL)["status"] == "canceled"


def test_it_pulls_the_orders_on_every_market_of_the_venue_and_only_the_accounts(world):
    bot, user = world
    PaperMarket.objects.create(
        venue=bot.venue, symbol="ETH/USDT", base="ETH", quote="USDT", price_tick=D("0.01"),
        amount_step=D("0.001"), min_amount=D("0.001"), min_cost=D("5"),
    )
    bot.create_order(SYMBOL, "limit", "buy", D("0.1"), D("99"))
    bot.create_order("ETH/USDT", "limit", "buy", D("1"), D("50"))
    theirs = user.create_order(SYMBOL, "limit", "sell", D("1"), D("101"))
    bot.cancel_all_orders_after(60_000)
    expire(bot)

    user.fetch_order_book("ETH/USDT")

    assert not PaperOrder.objects.filter(account=bot.account, status="open").exists()
    assert PaperOrder.objects.get(order_id=theirs["id"]).status == "open"
    assert balance(bot, "USDT") == (D("10000"), D("0"))


@pytest.mark.parametrize("timeout", [-1, 86_400_001, 1.5, "10000", True, None])
def test_a_bad_timeout_is_refused_naming_it_and_nothing_changes(world, timeout):
    bot, _ = world
    bot.cancel_all_orders_after(60_000)
    before = PaperCancelDeadline.objects.get(account=bot.account).deadline

    with pytest.raises(ccxt.BadRequest, match="cancelAllOrdersAfter timeout must be a whole number"):
        bot.cancel_all_orders_after(timeout)

    assert PaperCancelDeadline.objects.get(account=bot.account).deadline == before


def test_applying_a_switch_reads_only_the_markets_where_the_account_has_orders(
    world, django_assert_max_num_queries
):
    bot, user = world
    PaperMarket.objects.bulk_create(
        PaperMarket(venue=bot.venue, symbol=f"X{i}/USDT", base=f"X{i}", quote="USDT",
                    price_tick=D("0.01"), amount_step=D("0.001"))
        for i in range(40)
    )
    bot.create_order(SYMBOL, "limit", "buy", D("0.1"), D("99"))
    bot.cancel_all_orders_after(60_000)
    expire(bot)

    with django_assert_max_num_queries(16):
        user.fetch_order_book(SYMBOL)

    assert bot.fetch_open_orders(SYMBOL) == []
