"""Ballast's trading logic: plain Python on Decimal values, returning decisions as data.

Nothing in this package imports Django, Celery or ccxt. The Celery tasks (live and demo) and the
simulation stepper are the two drivers that call it.
"""
