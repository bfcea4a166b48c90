"""The demo desk watches BTC/USDT for price action: its detectors are on from the seed, quiet
under the users' ordinary flow, and heavy net selling makes them propose a buyback that waits for
an operator (nothing trades unapproved); the other markets' detectors are off."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from django.core.management import call_command

from bots.interventions import execution, workflow
from bots.interventions.tasks import detect_interventions
from bots.market_making import quoter
from bots.models import Intervention, InterventionOrder, InterventionSettings, Market
from bots.simulation import demo_seed
from tests.support.interventions import read_balances, user_fills

pytestmark = pytest.mark.django_db
I = Intervention  # noqa: E741


@pytest.fixture
def desk():
    call_command("seed_demo", "--trades-per-minute", "0", "--username", "demo-operator",
                 stdout=io.StringIO())
    markets = {m.slug: m for m in Market.objects.filter(kind=Market.BOOK)}
    for market in markets.values():
        quoter.run_tick(market.pk, on_hedge=lambda hedge_id: None)  # its reference
        read_balances(market)
    return {slug: Market.objects.get(pk=m.pk) for slug, m in markets.items()}


def test_only_btc_usdt_has_its_detectors_on_with_the_seeded_thresholds(desk):
    on = InterventionSettings.objects.filter(detect=True)

    assert [row.market.slug for row in on] == ["btc-usdt"]
    config = on.get().config()
    assert (config.flow_threshold, config.flow_window_minutes) == (D("2"), 15)
    assert (config.mid_move_pct, config.imbalance_ratio, config.inventory_check) == (D("1"), 0, False)
    assert demo_seed.MARKETS["btc-usdt"].detectors == demo_seed.FLAGSHIP_DETECTORS


def test_ordinary_flow_proposes_nothing_and_heavy_selling_a_buyback_that_waits(desk):
    btc, eth = desk["btc-usdt"], desk["eth-usdt"]
    user_fills(btc, "sell", ["0.6", "0.5"])
    user_fills(btc, "buy", ["0.3"])

    assert detect_interventions() == 0

    user_fills(btc, "sell", ["0.9", "0.4"])  # a net 2.1 BTC sold in 15 minutes
    user_fills(eth, "sell", ["40"], ago_seconds=40)  # trade ids carry the time: not btc's
    assert detect_interventions() == 1

    iv = Intervention.objects.get()
    assert (iv.market, iv.kind, iv.origin, iv.state) == (btc, I.BUYBACK, I.DETECTOR, I.PROPOSED)
    assert iv.amount == D("0.5")
    assert "users sold a net 2.1 BTC in 15 min" in iv.reason
    assert detect_interventions() == 0  # one open already
    assert execution.run_due(iv.pk).message.endswith("is proposed")
    assert not InterventionOrder.objects.exists()
    assert workflow.detect(eth) is None
