"""What the /demo tests share: the run a client's cookie points at, read back from the cache."""

from __future__ import annotations

import pickle

from django.core.cache import cache

from dashboard import demo, demo_runs


def state_of(client):
    run_id = demo.run_id_from(client.cookies[demo.COOKIE].value)
    return pickle.loads(cache.get(demo_runs.state_key(run_id)))
