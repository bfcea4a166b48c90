"""A broker market beside the book markets: every page of the desk still answers, and the pages
about quoting a book do not list it as a book market."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.support.otc import SLUG

pytestmark = pytest.mark.django_db

PAGES = ["/", "/overview/", "/alerts/", "/targets/", "/morning-check/", "/rebalance/",
         "/rebalance/settings/", "/sizing/", "/audit/", "/otc/", f"/otc/{SLUG}/", "/markets/btc-usdt/"]


def test_every_page_answers_with_a_broker_market_present(broker_market, admin_user):
    client = Client()
    client.force_login(admin_user)
    for path in PAGES:
        answer = client.get(path, follow=True)
        assert answer.status_code == 200, (path, answer.status_code)
    morning = client.post("/morning-check/run", follow=True)
    assert morning.status_code == 200
    # The market pages, the overview and the targets are about books: the broker market's page
    # is the OTC one.
    assert client.get(f"/markets/{SLUG}/")["Location"] == f"/otc/{SLUG}/"
    for path in ("/markets/btc-usdt/", "/overview/", "/targets/"):
        assert f"/markets/{SLUG}/" not in client.get(path).content.decode(), path
    assert client.get("/")["Location"] == "/markets/btc-usdt/"  # still a desk of one book market
