"""The plain-SQL statements run on the database driver's own cursor (bots/platform/sql.py:
DriverCursor), and keep what Django's cursor gave them: a driver's error arrives as Django's, a
statement inside a failed atomic block is refused, and whatever watches the queries (a test's
CaptureQueriesContext, an execute wrapper) sees every statement. On SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from bots.models import Account, PaperBalance
from bots.platform import sql

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(demo_market):
    PaperBalance.objects.filter(account=demo_market.mm_account).delete()
    return demo_market.mm_account


def test_statements_go_to_the_driver_cursor_when_nothing_watches(db):
    with sql.cursor() as cursor:
        assert isinstance(cursor, sql.DriverCursor)
        cursor.execute("SELECT %s, %s", [7, "seven"])
        assert cursor.fetchone() == (7, "seven")


def test_a_literal_percent_sign_survives_the_placeholders(account):
    PaperBalance.objects.create(account=account, asset="USDT", free=D("1.5"), used=D("0"))
    # "%%" is a literal % in Django's style; "%s" the placeholder beside it.
    statement = (
        f"SELECT {sql.column(PaperBalance, 'asset')} FROM {sql.table(PaperBalance)} "  # noqa: S608
        f"WHERE {sql.column(PaperBalance, 'asset')} LIKE 'US%%' AND {sql.column(PaperBalance, 'account')} = %s"
    )
    assert sql.fetchall(statement, [account.pk]) == [("USDT",)]


def test_a_duplicate_key_is_djangos_integrity_error_and_changes_nothing(account):
    sql.insert(PaperBalance(account=account, asset="BTC", free=D("1"), used=D("0")))
    with pytest.raises(IntegrityError), transaction.atomic():
        sql.insert(PaperBalance(account=account, asset="BTC", free=D("2"), used=D("0")))
    assert PaperBalance.objects.get(account=account, asset="BTC").free == D("1")


def test_a_statement_after_an_error_inside_the_block_is_refused(account):
    sql.insert(PaperBalance(account=account, asset="ETH", free=D("1"), used=D("0")))
    with transaction.atomic():
        try:
            with transaction.atomic(savepoint=False):
                sql.insert(PaperBalance(account=account, asset="ETH", free=D("2"), used=D("0")))
        except IntegrityError:
            pass
        with pytest.raises(TransactionManagementError):
            sql.fetchall("SELECT %s", [1])


def test_watched_queries_see_every_statement(account):
    with CaptureQueriesContext(connection) as queries:
        sql.update(Account, {"id": account.pk}, name="watched")
        assert sql.fetchall("SELECT %s", [1]) == [(1,)]
    assert len(queries.captured_queries) == 2

    seen = []

    def keep(execute, statement, params, many, context):
        seen.append(statement)
        return execute(statement, params, many, context)

    with connection.execute_wrapper(keep):
        sql.fetchall("SELECT %s", [2])
    assert len(seen) == 1
    assert Account.objects.get(pk=account.pk).name == "watched"
