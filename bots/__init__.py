"""Ballast's trading domain: the pure engine, the venues, the records and the Celery tasks."""
