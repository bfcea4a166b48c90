"""The stream tests' exchange stubs (REST and websocket), started for each test and stopped after
it: binance's (tests/support/streams.py:Stubs), or another exchange's where the module names its
class as STUBS (the HollaEx stream tests: tests/support/hollaex_world.py:HollaExStubs)."""

from __future__ import annotations

import pytest

from tests.support.streams import Stubs


@pytest.fixture
def stubs(request):
    stubs = getattr(request.module, "STUBS", Stubs)()
    yield stubs
    stubs.stop()
