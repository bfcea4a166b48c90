"""Ballast's web layer and Django project: settings, URLs, ASGI and Celery apps, views, consumers."""

from .celery import app as celery_app

__all__ = ["celery_app"]
