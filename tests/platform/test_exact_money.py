"""Money and quantities come back exactly as written on every backend (SQLite keeps them as text,
PostgreSQL as numeric(38, 18)), and SQL still compares, orders and sums them as numbers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max, Min
from django.utils import timezone

from bots.desk import health
from bots.hedging import hedge_context
from bots.market_making import tick_reads
from bots.models import (
    BalanceSnapshot,
    Fill,
    Hedge,
    HedgeSettings,
    PaperOrder,
    RebalancePolicy,
    TransferProposal,
)
from bots.models.fields import ExactSum
from bots.platform import sql
from bots.streams import work
from bots.venues import paper_store

pytestmark = pytest.mark.django_db
EXACT = D("1234567890.123456789")


def fill(market, trade_id: str, **values) -> Fill:
    fields = {"price": EXACT, "amount": D("0.125"), "cost": D("8125.0625"), "timestamp": 1} | values
    return Fill.objects.create(
        venue=market.mm_account.venue, account=market.mm_account, market=market,
        trade_id=trade_id, order_id="o", side="buy", **fields,
    )


def test_a_value_reads_back_exactly_as_written(demo_market):
    row = fill(demo_market, "t1", amount=D("0.000000000000000001"), cost=D("-999999999999999.999999999999999999"))

    assert Fill.objects.values_list("price", "amount", "cost").get(pk=row.pk) == (
        EXACT, D("0.000000000000000001"), D("-999999999999999.999999999999999999")
    )
    row.refresh_from_db()
    assert row.price == EXACT


def test_the_plain_sql_reads_of_the_hot_paths_are_exact(demo_market):
    Hedge.objects.create(
        fill=fill(demo_market, "t1"), account=demo_market.hedge_account, client_order_id="h1",
        side="sell", amount=EXACT, filled=D("0.000000000000000001"),
    )
    HedgeSettings.objects.create(market=demo_market, max_notional=D("123456789.123456789"))

    [(_, amount, filled, _, _)] = tick_reads.open_hedges(demo_market.pk)
    settings = hedge_context.load(demo_market.pk).settings

    assert (amount, filled) == (EXACT, D("0.000000000000000001"))
    assert settings.max_notional == D("123456789.123456789")


def test_the_paper_venue_finds_the_asks_within_a_limit_by_number(demo_market):
    venue, account = demo_market.mm_account.venue, demo_market.mm_account
    for seq, price in enumerate([D("9.5"), D("10"), D("100"), D("10.000000000000000001")]):
        PaperOrder.objects.create(
            venue=venue, symbol="XYZ/USDT", order_id=f"x{seq}", account=account, side="sell",
            type="limit", time_in_force="GTC", price=price, amount=D("1"), status="open",
            seq=seq, timestamp=seq,
        )

    asks = paper_store.open_orders(venue.pk, "XYZ/USDT", side="sell", price_bound=D("10"))

    assert [order.price for order in asks] == [D("9.5"), D("10")]


def test_sql_compares_orders_and_sums_money_as_numbers(demo_market):
    values = [D("9.5"), D("10"), D("-3"), EXACT, EXACT - D("0.000000001"), D("0.000000000000000001")]
    for value in values:
        BalanceSnapshot.objects.create(
            account=demo_market.mm_account, asset="BTC", free=value, used=0, total=value
        )
    rows = BalanceSnapshot.objects.all()

    assert sorted(rows.filter(total__gt=D("9.75")).values_list("total", flat=True)) == [
        D("10"), EXACT - D("0.000000001"), EXACT
    ]
    assert list(rows.filter(total__lt=0).values_list("total", flat=True)) == [D("-3")]
    assert list(rows.filter(total=D("10.000")).values_list("total", flat=True)) == [D("10")]
    assert list(rows.order_by("total").values_list("total", flat=True)) == sorted(values)
    assert rows.aggregate(low=Min("total"), high=Max("total")) == {"low": D("-3"), "high": EXACT}
    assert rows.aggregate(total=ExactSum("total"))["total"] == sum(values)
    assert rows.filter(asset="ETH").aggregate(total=ExactSum("total"))["total"] is None


def test_the_volume_of_a_day_sums_fill_costs_exactly(demo_market):
    now = timezone.now()
    stamp = int((now - timedelta(hours=1)).timestamp() * 1000)
    fill(demo_market, "t1", cost=EXACT, timestamp=stamp)
    fill(demo_market, "t2", cost=D("0.000000001"), timestamp=stamp)

    assert health.volume_24h(demo_market, now) == D("1234567890.123456790")


@pytest.mark.django_db(transaction=True)  # the stream's work closes a connection left in a transaction
def test_the_stream_adds_up_an_order_s_fills_exactly(demo_market):
    # Twelve fills of 0.01 add up to 0.11999999999999998 through floats: the stream took the
    # order's 0.12 filled for a lost trade message and read REST for a fill it had (the bench's
    # HollaEx path, on SQLite).
    for i in range(12):
        fill(demo_market, f"t{i}", amount=D("0.01"))

    assert work.shortfall(demo_market.pk, "o", D("0.12")) is None
    assert work.shortfall(demo_market.pk, "o", D("0.13")) == demo_market.last_fill_timestamp


def test_a_transfer_of_nothing_is_refused_by_the_database_itself(rebalance_market):
    accounts = {"source": rebalance_market.mm_account, "destination": rebalance_market.hedge_account}

    with pytest.raises(IntegrityError), transaction.atomic():
        TransferProposal.objects.create(asset="BTC", network="BTC", amount=D("0"), origin="manual", **accounts)
    tiny = TransferProposal.objects.create(
        asset="BTC", network="BTC", amount=D("0.000000000000000001"), origin="manual", **accounts
    )

    assert TransferProposal.objects.get(pk=tiny.pk).amount == D("0.000000000000000001")


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_values_stored_before_it_readable_and_exact(rebalance_market):
    executor = MigrationExecutor(connection)
    executor.migrate([("bots", "0009_dead_man_switch")])
    table = sql.table(RebalancePolicy)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET two_approvers_above = %s, runway_alert_hours = %s WHERE asset = %s",  # noqa: S608
            [D("99999999999999999999.999"), EXACT, "BTC"],
        )
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    policy = RebalancePolicy.objects.get(asset="BTC")
    if connection.vendor == "sqlite":  # what its REAL columns kept: a float, 15 digits
        assert (policy.two_approvers_above, policy.runway_alert_hours) == (
            D("1E+20"), D("1234567890.12346")
        )
    else:
        assert (policy.two_approvers_above, policy.runway_alert_hours) == (
            D("99999999999999999999.999"), EXACT
        )
    policy.runway_alert_hours = EXACT
    policy.save(update_fields=["runway_alert_hours"])
    assert RebalancePolicy.objects.get(asset="BTC").runway_alert_hours == EXACT
