"""The Celery app: its settings are Django's CELERY_* settings, its tasks live in each
capability's tasks module (bots/*/tasks.py, dashboard/*/tasks.py), registered by the apps' ready()."""

import os

from celery import Celery, signals
from django.db import connections

from bots.platform.gc_pauses import freeze_startup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ballast.settings")

app = Celery("ballast")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_postrun.connect
def close_broken_database_connections(**_) -> None:
    """A connection a task found broken (the database restarted) is closed after the task, so
    the next one connects afresh. Celery's Django fixup keeps connections for CELERY_DB_REUSE_MAX
    tasks without looking at them: every task would fail on the dead connection until then (the
    restart drill found ticks stopped for good after a PostgreSQL restart)."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and connection.errors_occurred:
            if connection.is_usable():
                connection.errors_occurred = False
            else:
                connection.close()


@signals.worker_ready.connect
@signals.worker_process_init.connect
def freeze_what_start_up_made(**_) -> None:
    """The code a worker imported stays out of the garbage collector's full collections, whose
    walk of it paused a task 80-260 ms (bots/platform/gc_pauses.py). worker_ready runs in the
    worker's main process, where a solo pool runs its tasks; worker_process_init in each child of
    a prefork pool."""
    freeze_startup()
