"""The Django project: settings, URLs, the ASGI and Celery apps, and the embedded Redis."""

from ballast.celery import app as celery_app

__all__ = ["celery_app"]
