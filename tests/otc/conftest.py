"""Fixtures of the OTC tests: a broker market on the demo's venues and an API client."""

from __future__ import annotations

import pytest

from tests.support.otc import make_broker_market, token_for


@pytest.fixture
def broker_market(demo_market):
    return make_broker_market(demo_market)


@pytest.fixture
def api_client(db):
    return token_for()[0]
