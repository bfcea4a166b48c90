"""Celery reuses a worker's database connection across tasks (CELERY_DB_REUSE_MAX); one a task
found broken (PostgreSQL restarted) is closed after that task, so the next connects afresh
instead of failing on it. A healthy connection stays open."""

from __future__ import annotations

import pytest
from celery import signals
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_connection_found_broken_is_closed_after_the_task(monkeypatch):
    connection.ensure_connection()
    connection.errors_occurred = True  # a query of the task failed
    monkeypatch.setattr(connection, "is_usable", lambda: False)  # and the server is gone

    signals.task_postrun.send(sender=None)

    assert connection.connection is None


def test_a_healthy_connection_stays_open_for_the_next_task():
    connection.ensure_connection()
    kept = connection.connection

    signals.task_postrun.send(sender=None)

    assert connection.connection is kept


def test_a_connection_whose_error_passed_is_kept_and_marked_well():
    connection.ensure_connection()
    kept = connection.connection
    connection.errors_occurred = True  # an error of the query, not of the connection

    signals.task_postrun.send(sender=None)

    assert connection.connection is kept and not connection.errors_occurred
