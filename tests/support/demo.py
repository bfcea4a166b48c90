"""What the /demo tests share: the run a client's cookie points at, read back from the cache."""

from __future__ import annotations

import pickle

from django.core.cache import cache

from dashboard.simulation import demo_runs, demo_views


def state_of(client):
    run_id = demo_views.run_id_from(client.cookies[demo_views.COOKIE].value)
    return pickle.loads(cache.get(demo_runs.state_key(run_id)))
