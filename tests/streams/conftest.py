"""The stream tests' exchange stubs (REST and websocket), started for each test and stopped after
it: binance's (tests/support/streams.py:Stubs), or another exchange's where the module names its
class as STUBS (the HollaEx stream tests: tests/support/hollaex_world.py:HollaExStubs)."""

from __future__ import annotations

import pytest

from tests.support.streams import Stubs


@pytest.fixture(autouse=True)
def no_page_refresh_left_behind(monkeypatch):
    """A hedge queues its market's balance and page refresh for 0.2 s later
    (bots/hedging/tasks.py:_changed), which no stream test looks at. The session's Celery worker,
    started by an earlier test in the same pytest process (tests/conftest.py:worker), would run it
    on the test database after the test, while the database is being emptied: CI run 19's flush
    failed on a balance row written meanwhile, and the next test found the last one's fills."""
    from bots.hedging import tasks

    monkeypatch.setattr(tasks.market_changed, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture
def stubs(request):
    stubs = getattr(request.module, "STUBS", Stubs)()
    yield stubs
    stubs.stop()
