"""The stream process is one long-lived database client: its captures keep a healthy
connection instead of connecting again for each fill (Django's close_old_connections closed it
at every call, CONN_MAX_AGE being 0), and still connect afresh once it broke (a database
restart: tests/streams/test_stream_process_outlives_the_database.py has the whole story)."""

from __future__ import annotations

import pytest
from django.db import connection

from bots.streams import work

pytestmark = pytest.mark.django_db(transaction=True)


def capture_nothing(market) -> None:
    work.capture_streamed(market.pk, [], lambda hedge_id: None)


def test_captures_keep_a_healthy_connection(demo_market):
    capture_nothing(demo_market)
    first = connection.connection

    capture_nothing(demo_market)
    work.resync(demo_market.pk, lambda hedge_id: None)

    assert first is not None and connection.connection is first


def test_a_broken_connection_is_replaced_before_the_capture(demo_market, monkeypatch):
    capture_nothing(demo_market)
    broken = connection.connection
    connection.errors_occurred = True  # as a failed statement leaves it
    monkeypatch.setattr(connection, "is_usable", lambda: False)

    capture_nothing(demo_market)

    assert connection.connection is not None and connection.connection is not broken


def test_a_connection_that_had_an_error_but_answers_is_kept(demo_market):
    capture_nothing(demo_market)
    kept = connection.connection
    connection.errors_occurred = True

    capture_nothing(demo_market)

    assert connection.connection is kept and not connection.errors_occurred
