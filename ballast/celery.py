"""The Celery app: its settings are Django's CELERY_* settings, its tasks live in each
capability's tasks module (bots/*/tasks.py, dashboard/*/tasks.py), registered by the apps' ready()."""

import os

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ballast.settings")

app = Celery("ballast")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def watch_workers(sender=None, **kwargs):
    """Beat outlives the workers by design: it is where their silence can still be noticed."""
    # Beat starts without Django: set it up before importing anything that reads models.
    import django

    django.setup()
    from bots.desk.health import start_worker_watchdog  # reads models: after setup()

    start_worker_watchdog()
