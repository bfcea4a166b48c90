"""A spread or depth breach raises its alert only once it has held for
BALLAST_LIQUIDITY_ALERT_SAMPLES samples in a row (a fill takes a quote level out for a few
seconds, and one sample catching it is no incident); each sample is still coloured red on its
own, and the alert resolves with the first sample without the breach."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.desk import health
from bots.engine.desk import liquidity
from bots.models import Alert, MarketTargets

pytestmark = pytest.mark.django_db

SPREAD_RED = {"spread_target_bps": 0, "spread_alarm_bps": Decimal("0.5")}
SPREAD_MET = {"spread_target_bps": 1000, "spread_alarm_bps": 1000}
DEPTH_RED = {"depth_05_alarm": 10**9, "depth_05_target": 10**9}
DEPTH_MET = {"depth_05_alarm": 0, "depth_05_target": 0}


@pytest.fixture(autouse=True)
def three_samples(settings):
    settings.LIQUIDITY_ALERT_SAMPLES = 3


def sample(market, **targets) -> str:
    MarketTargets.objects.filter(market=market).update(**targets)
    return health.sample_market(market).status


def alerts(kind: str) -> list[str]:
    return list(Alert.objects.filter(kind=kind).values_list("state", flat=True))


@pytest.mark.parametrize(
    ("kind", "red", "met"),
    [(Alert.SPREAD_OUT_OF_BAND, SPREAD_RED, SPREAD_MET), (Alert.DEPTH_OUT_OF_BAND, DEPTH_RED, DEPTH_MET)],
)
def test_a_breach_raises_its_alert_at_the_third_red_sample_in_a_row(kind, red, met, running_market):
    assert [sample(running_market, **red) for _ in range(2)] == [liquidity.RED] * 2
    assert alerts(kind) == []

    assert sample(running_market, **red) == liquidity.RED

    assert alerts(kind) == [Alert.OPEN]
    sample(running_market, **met)
    assert alerts(kind) == [Alert.RESOLVED]


@pytest.mark.parametrize(
    ("kind", "red", "met"),
    [(Alert.SPREAD_OUT_OF_BAND, SPREAD_RED, SPREAD_MET), (Alert.DEPTH_OUT_OF_BAND, DEPTH_RED, DEPTH_MET)],
)
def test_a_breach_that_flickers_colours_its_samples_and_raises_nothing(kind, red, met, running_market):
    seen = [sample(running_market, **targets) for targets in (red, red, met, red, red, met, red)]

    assert seen.count(liquidity.RED) == 5
    assert alerts(kind) == []


def test_one_sample_is_enough_when_the_setting_says_so(running_market, settings):
    settings.LIQUIDITY_ALERT_SAMPLES = 1

    sample(running_market, **SPREAD_RED)

    assert alerts(Alert.SPREAD_OUT_OF_BAND) == [Alert.OPEN]
