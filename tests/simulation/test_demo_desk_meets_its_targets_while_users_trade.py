"""The demo desk's flagship markets meet their targets while simulated users trade against
them, not only on a fresh book, and the long-tail market shows its breach throughout: two
minutes of the seeded desk on a simulated clock (tests/support/demo_desk.py), a health sample of
each market every second, taken after the users traded and before the next tick."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from bots.engine.desk import liquidity
from tests.support.demo_desk import trade

pytestmark = pytest.mark.django_db

FLAGSHIPS = ("btc-usdt", "eth-usdt")
DEPTH_05 = tuple(liquidity.figure_key(side, Decimal("0.5")) for side in ("buy", "sell"))


def test_the_flagships_meet_their_targets_and_the_long_tail_breaches_while_users_trade():
    call_command("seed_demo", "--username", "demo-operator", stdout=io.StringIO())

    stretch = trade(120)

    assert stretch.user_orders >= 20
    for slug in FLAGSHIPS:
        spread = stretch.grades(slug, liquidity.SPREAD)
        # A user order larger than the best level leaves the second one best until the next
        # tick: a sample may catch that, seldom.
        assert spread.count(liquidity.GREEN) >= 0.97 * len(spread), (slug, spread)
        assert liquidity.RED not in spread, slug
        assert set(stretch.grades(slug, liquidity.TWO_SIDED)) == {liquidity.GREEN}, slug
        for figure in DEPTH_05:
            assert set(stretch.grades(slug, figure)) == {liquidity.GREEN}, (slug, figure)
    tail = stretch.samples["xht-usdt"]
    assert all(s.grades[liquidity.SPREAD] == liquidity.RED for s in tail)
    assert all(s.grades[DEPTH_05[0]] == liquidity.RED for s in tail)
