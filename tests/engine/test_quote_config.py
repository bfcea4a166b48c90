"""The quote parameters: each bounded and explained, refused with a message that says what to do."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal as D

import pytest

from bots.engine.market_making.quote_config import (
    CROSS_FIELD_CHECKS,
    DEFAULTS,
    DEFAULTS_BY_NAME,
    GROUPS,
    PARAMS,
    CheckContext,
    InvalidSettings,
    QuoteConfig,
    as_dict,
    parse,
)

FEES = CheckContext(hedge_taker_fee=D("0.001"), own_maker_fee=D("0"), reference_price=D("65000"))


def values(**changes) -> dict:
    return {**DEFAULTS_BY_NAME, **changes}


def problems(**changes) -> dict[str, str]:
    with pytest.raises(InvalidSettings) as caught:
        parse(values(**changes), FEES)
    return caught.value.problems


def test_every_parameter_has_a_label_a_meaning_a_group_and_a_default_within_its_bounds():
    assert [f.name for f in fields(QuoteConfig)] == [p.name for p in PARAMS]
    for param in PARAMS:
        assert param.label and len(param.help) > 20 and param.group in GROUPS
        if param.minimum is not None:
            assert param.minimum <= param.default <= param.maximum
    assert parse(DEFAULTS_BY_NAME, FEES) == DEFAULTS


def test_form_strings_are_coerced_to_their_types():
    config = parse({k: str(v) for k, v in DEFAULTS_BY_NAME.items()}, FEES)

    assert config == DEFAULTS
    assert isinstance(config.levels, int) and isinstance(config.bid_spread_bps, D)
    assert config.post_only is True


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("bid_spread_bps", "-1", "Bid spread must be at least 0 bps"),
        ("ask_spread_bps", "5001", "Ask spread must be at most 5000 bps"),
        ("levels", "0", "Order levels must be at least 1"),
        ("levels", "2.5", "Order levels must be a whole number"),
        ("levels", "²", "Order levels must be a whole number"),  # str.isdigit() takes it
        ("levels", "٣", "Order levels must be a whole number"),  # int() takes it
        ("level_amount", "lots", "Level size must be a number"),
        ("level_amount", "NaN", "Level size must be a finite number"),
        ("mode", "yolo", "Pricing mode must be one of spread, avellaneda, mirror, glft"),
        ("post_only", "maybe", "Post-only must be true or false"),
        ("mirror_fraction", "1.5", "Mirror fraction must be at most 1"),
        ("breaker_move_pct", "51", "Price breaker must be at most 50%"),
        ("stale_after_seconds", "", "Stale reference is required"),
    ],
)
def test_a_value_out_of_bounds_or_of_the_wrong_kind_is_refused_by_name(name, value, message):
    assert problems(**{name: value}) == {name: message}


def test_every_problem_is_reported_at_once():
    found = problems(levels="0", level_amount="-1", mode="nope")

    assert set(found) == {"levels", "level_amount", "mode"}


# --- cross-field checks -------------------------------------------------------------------


def test_an_ask_spread_under_the_floor_says_how_far_to_raise_it():
    found = problems(ask_spread_bps="10", hedge_buffer_bps="2")

    assert found == {
        "ask_spread_bps": "Ask spread (10 bps) is below the hedge floor of 12 bps (hedge taker "
        "fee 10 + own maker fee 0 + buffer 2 bps): raise it to at least 12"
    }


def test_the_floor_check_needs_the_venues_fees_and_only_applies_to_fixed_spreads():
    assert parse(values(ask_spread_bps="1"), CheckContext()).ask_spread_bps == D("1")
    assert parse(values(ask_spread_bps="1", mode="mirror"), FEES).mode == "mirror"


def test_levels_beyond_the_ask_budget_are_refused():
    found = problems(levels="4", level_amount="0.5", amount_growth="0", ask_budget_base="1.5")

    assert "4 levels of the configured sizes need 2 base a side" in found["ask_budget_base"]


def test_levels_beyond_the_bid_budget_at_the_reference_are_refused():
    found = problems(levels="2", level_amount="1", amount_growth="0", bid_budget_quote="100000")

    assert "cost about 130000.00 quote at the reference 65000" in found["bid_budget_quote"]


def test_the_bid_budget_is_not_judged_without_a_reference_price():
    context = CheckContext(D("0.001"), D("0"), None)
    config = parse(values(levels="2", level_amount="1", amount_growth="0", bid_budget_quote="1"), context)

    assert config.bid_budget_quote == D("1")


def test_the_ceiling_must_be_above_the_floor():
    found = problems(price_ceiling="60000", price_floor="60000")

    assert found == {
        "price_ceiling": "The price ceiling (60000) must be above the price floor (60000), or "
        "the market would quote neither side between them"
    }
    assert parse(values(price_ceiling="70000", price_floor="0"), FEES).price_ceiling == D("70000")


def test_shrinking_levels_must_stay_above_zero():
    found = problems(levels="3", amount_growth="-0.5")

    assert "level 3 would have size 0" in found["amount_growth"]
    assert parse(values(levels="3", amount_growth="-0.49"), FEES).levels == 3


def test_max_order_age_must_not_undercut_the_refresh_time():
    found = problems(max_order_age_seconds="5", order_refresh_seconds="10")

    assert "Max order age (5 s) is shorter than the order refresh time (10 s)" in found[
        "max_order_age_seconds"
    ]


def test_minimum_spread_must_stay_inside_the_spreads():
    found = problems(minimum_spread_bps="15")

    assert "Minimum spread (15 bps) must be below both spreads" in found["minimum_spread_bps"]


def test_each_cross_field_check_is_a_named_function():
    assert {check.__name__ for check in CROSS_FIELD_CHECKS} == {
        "levels_stay_positive",
        "ceiling_above_floor",
        "max_age_not_below_refresh",
        "minimum_spread_below_spreads",
        "spreads_clear_the_floor",
        "levels_fit_the_budget",
        "glft_limit_leaves_room",
    }


def test_replace_validates_the_result():
    assert DEFAULTS.replace(levels=7).levels == 7
    with pytest.raises(InvalidSettings):
        DEFAULTS.replace(levels=0)
    assert as_dict(DEFAULTS)["mode"] == "spread"
