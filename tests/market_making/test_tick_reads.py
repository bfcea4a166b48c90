"""The tick's plain-SQL reads answer what the ORM queries they replace answer."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from bots.hedging import capture
from bots.market_making import tick_reads
from bots.models import Fill, Hedge, KillSwitch, Market, Order


def fill(market, side: str, timestamp: int, trade_id: str) -> Fill:
    return Fill.objects.create(
        venue=market.mm_account.venue, account=market.mm_account, market=market, trade_id=trade_id,
        order_id="o", side=side, price=Decimal("65000.5"), amount=Decimal("0.125"),
        cost=Decimal("8125.0625"), timestamp=timestamp,
    )


def test_recent_fills_are_the_orm_answer(demo_market):
    for n, (side, stamp) in enumerate([("buy", 1_000), ("sell", 5_000), ("buy", 9_000)]):
        fill(demo_market, side, stamp, f"t{n}")

    expected = list(
        Fill.objects.filter(market=demo_market, timestamp__gte=5_000).values_list("side", "timestamp")
    )
    assert sorted(tick_reads.recent_fills(demo_market.pk, 5_000)) == sorted(expected) == [
        ("buy", 9_000), ("sell", 5_000)
    ]


def test_open_hedges_leave_out_closed_ones_and_keep_decimals_and_times(demo_market):
    open_one = Hedge.objects.create(
        fill=fill(demo_market, "sell", 1, "a"), account=demo_market.hedge_account, client_order_id="h1", side="buy", amount=Decimal("0.125"),
        filled=Decimal("0.025"), state=Hedge.PENDING,
    )
    Hedge.objects.create(
        fill=fill(demo_market, "buy", 2, "b"), account=demo_market.hedge_account, client_order_id="h2", side="sell", amount=Decimal("1"),
        filled=Decimal("1"), state=Hedge.FILLED,
    )

    [(side, amount, filled, state, created)] = tick_reads.open_hedges(demo_market.pk)

    open_one.refresh_from_db()
    assert (side, amount, filled, state) == ("sell", Decimal("0.125"), Decimal("0.025"), open_one.state)
    assert created == open_one.created_at and created.tzinfo is not None


def test_live_orders_and_the_stop_check(demo_market):
    mm = demo_market.mm_account
    for n, state in enumerate([Order.OPEN, Order.SENDING, Order.CANCELED]):
        Order.objects.create(
            account=mm, market=demo_market, client_order_id=f"c{n}", exchange_order_id=f"e{n}",
            side="buy", price=Decimal("1"), amount=Decimal("1"), state=state,
        )

    assert sorted(tick_reads.live_orders(demo_market.pk, mm.pk)) == sorted(
        Order.objects.filter(market=demo_market, account=mm, state__in=[Order.OPEN, Order.SENDING])
        .values_list("pk", "client_order_id", "exchange_order_id", "state")
    )
    assert tick_reads.extra_hedge_account_ids(demo_market.pk) == []

    assert tick_reads.stopped(demo_market.pk) is False
    Market.objects.filter(pk=demo_market.pk).update(state=Market.PAUSED)
    assert tick_reads.stopped(demo_market.pk) is True
    Market.objects.filter(pk=demo_market.pk).update(state=Market.RUNNING)
    KillSwitch.objects.update_or_create(pk=1, defaults={"engaged": True, "changed_at": timezone.now()})
    assert tick_reads.stopped(demo_market.pk) is True


def test_markets_quoted_by_an_account(demo_market):
    mm, hedge = demo_market.mm_account_id, demo_market.hedge_account_id

    assert capture.markets_quoted_by([mm, hedge], demo_market.symbol) == [(demo_market.pk, mm)]
    assert capture.markets_quoted_by([hedge], demo_market.symbol) == []
    assert capture.markets_quoted_by([mm], "ETH/USDT") == []
    Market.objects.filter(pk=demo_market.pk).update(enabled=False)
    assert capture.markets_quoted_by([mm], demo_market.symbol) == []
