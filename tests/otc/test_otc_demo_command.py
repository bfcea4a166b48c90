"""manage.py otc_demo adds a broker market to the paper demo and prints a token that works."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from bots.models import Market

pytestmark = pytest.mark.django_db


def test_it_adds_a_broker_market_and_a_working_token(demo_market, redis_client):
    out = io.StringIO()
    call_command("otc_demo", stdout=out)
    token = re.search(r"\(shown once\): (otc_\S+)", out.getvalue()).group(1)
    market = Market.objects.get(slug="btc-usdt-otc")
    assert market.kind == Market.BROKER and market.hedge_account.venue == demo_market.hedge_account.venue
    assert market.hedge_account != demo_market.hedge_account  # its own: see the demo seed's test
    answer = Client().post(
        "/api/otc/v1/quotes", data='{"market": "btc-usdt-otc", "side": "buy", "amount": "0.1", "user": "u"}',
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 201, answer.content
    call_command("otc_demo", stdout=io.StringIO())  # again: the same market, another client
    assert Market.objects.filter(kind=Market.BROKER).count() == 1


def test_it_needs_the_demo(db):
    with pytest.raises(CommandError, match="no paper demo"):
        call_command("otc_demo", stdout=io.StringIO())
