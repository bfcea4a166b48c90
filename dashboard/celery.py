"""The Celery app: its settings are Django's CELERY_* settings, its tasks live in bots.tasks."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("ballast")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
