"""The GLFT quote (bots.engine.market_making.glft): positive depths, a skew that follows the
inventory, symmetry when flat, the adding side stopped at the inventory limit, xi defaulting to
gamma, and figures checked against a hand computation."""

from __future__ import annotations

import math
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.engine.market_making.glft import GlftParams, coefficients, glft_quote


def positive(low: str, high: str):
    return st.decimals(min_value=D(low), max_value=D(high), places=4)


params = st.builds(
    GlftParams, A=positive("0.01", "1000"), k=positive("0.01", "50"),
    gamma=positive("0.001", "10"), delta=positive("0.01", "10"),
)
inventory = st.decimals(min_value=-50, max_value=50, places=3)
sigma = st.decimals(min_value=0, max_value=20, places=3)


@settings(max_examples=300, deadline=None)
@given(params, inventory, sigma)
def test_depths_are_never_negative_and_the_side_that_adds_stays_out(p, q, s):
    quote = glft_quote(q, s, p)

    assert quote.half_spread > 0 and quote.skew >= 0
    assert quote.bid_depth >= 0 and quote.ask_depth >= 0
    # The side a fill would add to the inventory on is never pulled in: its depth is at least
    # the half spread (buying when long, selling when short).
    if q >= 0:
        assert quote.bid_depth >= quote.half_spread > 0
    if q <= 0:
        assert quote.ask_depth >= quote.half_spread > 0


@settings(max_examples=300, deadline=None)
@given(params, inventory.filter(lambda q: q != 0), sigma.filter(lambda s: s > 0))
def test_the_skew_leans_away_from_the_inventory(p, q, s):
    quote = glft_quote(q, s, p)

    # Long: the bid goes deeper and the ask nearer (sell what is held); short: the reverse.
    if q > 0:
        assert quote.bid_depth > quote.half_spread and quote.ask_depth < quote.half_spread
        assert quote.bid_depth > quote.ask_depth
    else:
        assert quote.ask_depth > quote.half_spread and quote.bid_depth < quote.half_spread
        assert quote.ask_depth > quote.bid_depth
    # One more unit held: a deeper bid (unless both sit at the reference, held at zero).
    longer = glft_quote(q + 1, s, p)
    assert longer.bid_depth > quote.bid_depth or longer.bid_depth == quote.bid_depth == 0


@settings(max_examples=200, deadline=None)
@given(params, sigma)
def test_a_flat_inventory_quotes_symmetrically(p, s):
    quote = glft_quote(D(0), s, p)

    assert quote.bid_depth == quote.ask_depth == quote.half_spread


@settings(max_examples=300, deadline=None)
@given(params, inventory, sigma, st.decimals(min_value=0, max_value=40, places=2))
def test_the_side_that_adds_stops_where_a_fill_would_pass_the_limit(p, q, s, limit):
    quote = glft_quote(q, s, GlftParams(p.A, p.k, p.gamma, p.delta, q_limit=limit))
    free = glft_quote(q, s, p)

    assert (quote.bid_depth is None) == (q + p.delta > limit)
    assert (quote.ask_depth is None) == (q - p.delta < -limit)
    # Inside the limit a side is quoted exactly as without one.
    if quote.bid_depth is not None:
        assert quote.bid_depth == free.bid_depth
    if quote.ask_depth is not None:
        assert quote.ask_depth == free.ask_depth
    if q > limit:
        assert quote.bid_depth is None  # long beyond Q: no more buying


@settings(max_examples=200, deadline=None)
@given(params, inventory, sigma)
def test_xi_defaults_to_gamma(p, q, s):
    assert p.xi is None
    assert glft_quote(q, s, p) == glft_quote(
        q, s, GlftParams(p.A, p.k, p.gamma, p.delta, xi=p.gamma)
    )


def test_known_values_by_hand():
    # A = k = gamma = xi = Delta = 1, sigma = 1:
    #   c1 = ln(1 + 1) / 1 = ln 2;  c2 = sqrt(1 / 2 * 2 ** (1 + 1)) = sqrt 2
    #   half spread = ln 2 + sqrt 2 / 2 = 1.400 254 ...;  skew = sqrt 2
    one = D(1)
    p = GlftParams(A=one, k=one, gamma=one, delta=one)
    c1, c2 = coefficients(p)
    assert float(c1) == pytest.approx(math.log(2), rel=1e-15)
    assert float(c2) == pytest.approx(math.sqrt(2), rel=1e-15)

    flat = glft_quote(D(0), one, p)
    assert float(flat.half_spread) == pytest.approx(1.4002540, abs=1e-7)
    assert float(flat.skew) == pytest.approx(1.4142136, abs=1e-7)

    # q = 0.5: bid depth ln 2 + sqrt 2 = 2.107 360 ...; ask depth ln 2 = 0.693 147 ...
    half = glft_quote(D("0.5"), one, p)
    assert float(half.bid_depth) == pytest.approx(2.1073607, abs=1e-7)
    assert float(half.ask_depth) == pytest.approx(0.6931472, abs=1e-7)

    # q = 1: the ask's formula, ln 2 - sqrt 2 / 2 = -0.014, would sell below the reference.
    assert glft_quote(one, one, p).ask_depth == 0


def test_a_second_hand_computation_with_xi_apart_from_gamma():
    # A = 2, k = 0.5, gamma = 0.1, xi = 0.25, Delta = 2, sigma = 3:
    #   xi*Delta/k = 1, so c1 = ln 2 / 0.5 = 2 ln 2 = 1.386 294 and
    #   c2 = sqrt(0.1 / (2*2*2*0.5) * 2 ** (0.5/0.5 + 1)) = sqrt(0.025 * 4) = sqrt 0.1
    #   skew = 3 sqrt 0.1 = 0.948 683;  half = 2 ln 2 + (2/2) * 0.948 683 = 2.334 978
    #   at q = -1: bid 2.334 978 - 0.948 683 = 1.386 294, ask 2.334 978 + 0.948 683 = 3.283 661
    p = GlftParams(A=D(2), k=D("0.5"), gamma=D("0.1"), delta=D(2), xi=D("0.25"))
    quote = glft_quote(D(-1), D(3), p)

    assert float(quote.half_spread) == pytest.approx(2 * math.log(2) + 3 * math.sqrt(0.1), rel=1e-12)
    assert float(quote.skew) == pytest.approx(0.9486833, abs=1e-7)
    assert float(quote.bid_depth) == pytest.approx(1.3862944, abs=1e-7)
    assert float(quote.ask_depth) == pytest.approx(3.2836610, abs=1e-7)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"A": D(0)}, "A must be more than 0"),
        ({"k": D(-1)}, "k must be more than 0"),
        ({"gamma": D(0)}, "gamma must be more than 0"),
        ({"delta": D("NaN")}, "delta must be more than 0"),
        ({"xi": D(0)}, "xi must be more than 0"),
        ({"q_limit": D(-1)}, "Q must be 0 or more"),
    ],
)
def test_unusable_parameters_are_refused_by_name(changes, message):
    base = {"A": D(1), "k": D(1), "gamma": D(1), "delta": D(1)}
    with pytest.raises(ValueError, match=message):
        glft_quote(D(0), D(1), GlftParams(**{**base, **changes}))
