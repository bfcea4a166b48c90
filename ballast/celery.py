"""The Celery app: its settings are Django's CELERY_* settings, its tasks live in each
capability's tasks module (bots/*/tasks.py, dashboard/*/tasks.py), registered by the apps' ready()."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ballast.settings")

app = Celery("ballast")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

