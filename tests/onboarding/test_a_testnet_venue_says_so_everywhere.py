"""A testnet venue is named "... (testnet)" wherever it appears, not only in the onboarding
lists: the market page's balances, the rebalance page's accounts and the audit of a transfer
(account_label), the tape's hedge venues."""

from __future__ import annotations

import pytest

from bots.hedging.report import venues_of
from bots.models import Account
from bots.treasury.balances import refresh_balances
from bots.treasury.inventory import account_label
from dashboard.live.publisher import market_snapshot
from tests.support.hedging_world import one_fill, run_until_done

pytestmark = pytest.mark.django_db


@pytest.fixture
def testnet_market(demo_market):
    venue = demo_market.hedge_account.venue
    venue.sandbox = True
    venue.save(update_fields=["sandbox"])
    return demo_market


def test_the_market_page_names_the_testnet(testnet_market):
    label = str(testnet_market.hedge_account.venue)
    assert label.endswith(" (testnet)")
    refresh_balances(testnet_market.hedge_account, ["BTC", "USDT"])

    venues = {row["venue"] for row in market_snapshot(testnet_market)["balances"]}

    assert label in venues
    assert testnet_market.hedge_account.venue.label not in venues


def test_accounts_are_named_with_the_testnet(testnet_market):
    account = Account.objects.select_related("venue").get(pk=testnet_market.hedge_account_id)

    assert account_label(account).endswith("(testnet)")


def test_the_tapes_hedge_venues_name_the_testnet(hedging_market):
    venue = hedging_market.hedge_account.venue
    venue.sandbox = True
    venue.save(update_fields=["sandbox"])
    hedge = one_fill(hedging_market, "buy", "0.05")
    run_until_done(hedge.pk)

    assert venues_of([hedge.pk]) == {hedge.pk: [f"{venue.label} (testnet)"]}
