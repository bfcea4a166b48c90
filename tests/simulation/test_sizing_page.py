"""The sizing page: prefilled from the market (flow from fills, settings, balances, band floors),
bad input refused with a message and nothing queued, viewers only look, one run at a time, and
the answer read back as the sentence with the right numbers."""

from __future__ import annotations

import html
import random
import re
from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import timezone

from bots.models import Fill, Hedge, SizingRun
from bots.simulation import sizing_runs

pytestmark = pytest.mark.django_db

GOOD = {
    "trades_per_minute": "12",
    "mean_size": "0.05",
    "buy_share": "0.55",
    "price": "65000",
    "daily_volatility_pct": "3",
    "mm_half_spread_bps": "15",
    "hedge_cost_bps": "30",
    "mm_base": "2",
    "mm_quote": "130000",
    "hedge_base": "2",
    "hedge_quote": "130000",
    "floor_base": "1",
    "floor_quote": "65000",
    "horizon_days": "7",
    "confidence_pct": "95",
    "paths": "1000",
    "seed": "42",
}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def record_fills(market, count: int, seed: int = 1):
    """`count` user orders over the last hour, as the MM bot's fills."""
    rng = random.Random(seed)
    now_ms = int(timezone.now().timestamp() * 1000)
    for i in range(count):
        Fill.objects.create(
            venue=market.mm_account.venue,
            account=market.mm_account,
            market=market,
            trade_id=f"t{i}",
            order_id=f"o{i}",
            side=rng.choice(["buy", "sell"]),
            price=D("65000"),
            amount=D("0.05"),
            cost=D("3250"),
            timestamp=now_ms - 3_600_000 + i * (3_600_000 // count),
        )


def test_the_form_is_prefilled_from_the_market(rebalance_market, operator):
    record_fills(rebalance_market, 30)

    page = client_for(operator).get("/sizing/").content.decode()

    assert "Estimated from 30 fills (30 user orders) over the last 24 hours." in page
    # 30 orders spread over the last hour: 29 gaps in about 60 minutes.
    rate = re.search(r'name="trades_per_minute" value="([0-9.]+)"', page).group(1)
    assert float(rate) == pytest.approx(0.4833, rel=0.01)
    assert 'name="mean_size" value="0.05"' in page
    # The demo's quote settings (15 bps each side), its hedge venue's 10 bps taker fee plus the
    # 20 bps hedge slippage; balances as last read; floors from the demo's band minimums.
    assert 'name="mm_half_spread_bps" value="15"' in page
    assert 'name="hedge_cost_bps" value="30"' in page
    assert 'name="mm_base" value="2"' in page and 'name="hedge_quote" value="130000"' in page
    assert 'name="floor_base" value="1"' in page and 'name="floor_quote" value="65000"' in page
    assert 'name="confidence_pct" value="95"' in page


def test_hedged_fills_give_the_hedge_cost_they_really_paid(rebalance_market, operator):
    record_fills(rebalance_market, 4)
    for fill, pnl in zip(Fill.objects.order_by("pk"), ["1.95", "1.3", "0.65", "2.6"], strict=False):
        Hedge.objects.create(
            fill=fill, account=rebalance_market.hedge_account, client_order_id=f"h{fill.pk}",
            side="sell" if fill.side == "buy" else "buy", amount=fill.amount, state=Hedge.FILLED,
            filled=fill.amount, pnl_quote=D(pnl), done_at=timezone.now(),
        )

    page = client_for(operator).get("/sizing/").content.decode()

    # 6.5 USDT kept on 4 x 3,250 USDT: 5 bps, so the hedges cost the 15 bps half spread less 5.
    assert 'name="hedge_cost_bps" value="10"' in page
    assert "less the 5 bps the 4 fills hedged over the last 24 hours kept after both venues&#x27; fees" in page


def test_without_enough_fills_the_page_asks_for_the_flow_by_hand(rebalance_market, viewer):
    record_fills(rebalance_market, 5)

    page = client_for(viewer).get("/sizing/").content.decode()

    assert (
        "Not enough fills: 5 user orders over the last 24 hours (at least 20 needed). "
        "Enter the flow by hand."
    ) in page
    assert 'name="trades_per_minute"' in page and 'name="trades_per_minute" value' not in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("paths", "5001", "Paths: Ensure this value is less than or equal to 5000."),
        ("paths", "lots", "Paths: Enter a whole number."),
        (
            "horizon_days",
            "61",
            "Rebalance at most once in (days): Ensure this value is less than or equal to 60.",
        ),
        (
            "horizon_days",
            "0",
            "Rebalance at most once in (days): Ensure this value is greater than or equal to 0.01.",
        ),
        (
            "confidence_pct",
            "100",
            "Confidence (%): Ensure this value is less than or equal to 99.9.",
        ),
        (
            "buy_share",
            "1.5",
            "Share of orders that buy (0 to 1): Ensure this value is less than or equal to 1.",
        ),
        ("trades_per_minute", "", "User orders a minute: This field is required."),
        ("mean_size", "abc", "Mean order size (BTC): Enter a number."),
        (
            "mm_base",
            "0.5",
            "The MM account's BTC (0.5) is not above its floor (1): it is dry already.",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_queued(
    rebalance_market, operator, django_capture_on_commit_callbacks, field, value, message
):
    for htmx in (False, True):
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        with django_capture_on_commit_callbacks() as queued:
            response = client_for(operator).post(
                "/sizing/btc-usdt/run", GOOD | {field: value}, **headers
            )

        assert response.status_code == 400
        assert message in html.unescape(response.content.decode())
        assert queued == []
    assert not SizingRun.objects.exists()


def test_an_operator_starts_a_run_and_a_second_waits_for_it(
    rebalance_market, operator, django_capture_on_commit_callbacks
):
    client = client_for(operator)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post("/sizing/btc-usdt/run", GOOD, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    run = SizingRun.objects.get()
    assert f"Run #{run.pk} queued: 1,000 paths of 7 days in 7 s steps." in response.content.decode()
    assert f'class="sizing-progress" data-run="{run.pk}"' in response.content.decode()
    assert len(queued) == 1
    assert (run.state, run.actor, run.paths, run.seed, run.step_seconds) == (
        "queued",
        "olivia",
        1000,
        42,
        7,
    )
    assert (run.horizon_days, run.confidence_pct, run.floor_quote) == (D(7), D(95), D(65000))
    assert run.flow_source == "Flow entered by hand."  # no fills to estimate from

    with django_capture_on_commit_callbacks() as queued:
        again = client.post("/sizing/btc-usdt/run", GOOD)
    assert again.status_code == 400
    assert (
        f"A sizing run of BTC/USDT is already under way (#{run.pk}): wait for it to finish."
        in again.content.decode()
    )
    assert queued == [] and SizingRun.objects.count() == 1


def test_the_flow_source_says_estimated_when_the_estimate_is_kept(
    rebalance_market, operator, django_capture_on_commit_callbacks
):
    record_fills(rebalance_market, 30)
    page = client_for(operator).get("/sizing/").content.decode()
    flow = {
        name: re.search(rf'name="{name}" value="([0-9.]+)"', page).group(1)
        for name in ("trades_per_minute", "mean_size", "buy_share")
    }

    with django_capture_on_commit_callbacks():
        client_for(operator).post("/sizing/btc-usdt/run", GOOD | flow)

    assert (
        SizingRun.objects.get().flow_source
        == "Estimated from 30 fills (30 user orders) over the last 24 hours."
    )


def test_a_viewer_sees_the_form_but_cannot_start_a_run(rebalance_market, viewer):
    client = client_for(viewer)
    page = client.get("/sizing/").content.decode()
    assert "Operators and admins start runs" in page
    assert "Run the simulation" not in page
    assert re.search(r'name="paths" value="1000"[^>]*disabled', page)

    assert client.post("/sizing/btc-usdt/run", GOOD).status_code == 403
    assert not SizingRun.objects.exists()


def test_steps_are_one_second_up_to_a_day_and_coarser_beyond():
    assert [sizing_runs.step_seconds(D(d)) for d in ("0.01", "1", "1.5", "7", "60")] == [
        1,
        1,
        2,
        7,
        60,
    ]


def test_figures_are_rounded_for_reading_and_requirements_up():
    figure = sizing_runs.figure
    assert figure(D("3.2104"), up=True) == "3.22"
    assert figure(D("209123.7"), up=True) == "210,000"
    assert figure(D("209123.7")) == "209,000"
    assert figure(D("2.000000000000000000"), 4) == "2"
    assert figure(D("130000.000000000000000000"), 4) == "130,000"
    assert figure(D("-1234.5")) == "-1,230"


def done_run(market, operator, **figures) -> SizingRun:
    values = {k: D(v) for k, v in GOOD.items() if k not in ("paths", "seed")}
    return SizingRun.objects.create(
        market=market,
        user=operator,
        actor="olivia",
        state=SizingRun.DONE,
        progress=1,
        paths=1000,
        seed=42,
        step_seconds=7,
        finished_at=timezone.now(),
        histograms={
            "days_to_dry": {"edges": [0.0, 3.5, 7.0], "counts": [300, 320], "not_finite": 380},
            "edge": {"edges": [0.0, 500.0, 1000.0], "counts": [400, 600], "not_finite": 0},
        },
        **values,
        **{k: D(v) for k, v in figures.items()},
    )


def test_the_answer_reads_the_run_figures(rebalance_market, operator, viewer):
    run = done_run(
        rebalance_market,
        operator,
        need_mm_base="3.1912",
        need_mm_quote="209000.4",
        need_hedge_base="3.05",
        need_hedge_quote="204100",
        share_dry="0.62",
        median_days_to_dry="4.23",
        p05_days_to_dry="0.98",
        edge_mean="1234.5",
        edge_p05="1010",
        edge_p95="1488",
    )

    sentences = sizing_runs.answer(run)

    assert sentences == [
        "To rebalance at most once every 7 days with 95% confidence, the MM account needs 3.2 BTC "
        "and 210,000 USDT and the hedge account 3.05 BTC and 205,000 USDT; they hold 2 BTC and "
        "130,000 USDT (MM) and 2 BTC and 130,000 USDT (hedge) now.",
        "With these balances 62% of paths needed a rebalance within 7 days; the median path after "
        "4.2 days; 5% of paths within 0.98 days.",
        "Edge earned until the first rebalance (or over 7 days): mean 1,230 USDT, 90% of paths "
        "between 1,010 and 1,490 USDT.",
    ]
    page = html.unescape(client_for(viewer).get("/sizing/").content.decode())
    for sentence in sentences:
        assert sentence in page
    assert (
        "1,000 paths in 7 s steps, seed 42. 12 user orders a minute of 0.05 BTC on average, 55% "
        "buying; volatility 3% a day; half spread 15 bps, hedge cost 30 bps; floors 1 BTC and "
        "65,000 USDT."
    ) in page
    assert f'id="sizing-hist-{run.pk}"' in page and 'data-kind="days"' in page


def test_an_answer_where_no_path_ran_dry(rebalance_market, operator):
    run = done_run(
        rebalance_market,
        operator,
        need_mm_base="1.5",
        need_mm_quote="90000",
        need_hedge_base="1.5",
        need_hedge_quote="90000",
        share_dry="0",
        edge_mean="100",
        edge_p05="90",
        edge_p95="110",
    )

    assert (
        sizing_runs.answer(run)[1]
        == "With these balances no path needed a rebalance within 7 days."
    )


def test_a_past_run_opens_in_its_market_card(rebalance_market, operator, viewer):
    old = done_run(
        rebalance_market,
        operator,
        need_mm_base="9.99",
        need_mm_quote="1",
        need_hedge_base="1",
        need_hedge_quote="1",
        share_dry="0",
        edge_mean="1",
        edge_p05="1",
        edge_p95="1",
    )
    done_run(
        rebalance_market,
        operator,
        need_mm_base="1.11",
        need_mm_quote="1",
        need_hedge_base="1",
        need_hedge_quote="1",
        share_dry="0",
        edge_mean="1",
        edge_p05="1",
        edge_p95="1",
    )
    client = client_for(viewer)

    assert "needs 1.11 BTC" in client.get("/sizing/").content.decode()  # the newest by default
    card = client.get(f"/sizing/runs/{old.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert card.startswith('<section class="card sizing-card" id="sizing-btc-usdt"')
    assert "needs 9.99 BTC" in card
    # Its form holds that run's question, to change one figure and ask again.
    assert 'name="seed" value="42"' in card and 'name="horizon_days" value="7"' in card
    assert f"The form holds run #{old.pk}" in html.unescape(card)


def test_volatility_and_price_come_from_the_health_samples(rebalance_market, viewer):
    from datetime import timedelta

    from bots.models import HealthSample

    # The reference mid every 5 minutes for 2 hours, alternating 65,000 and 65,650 (1%).
    now = timezone.now()
    for i in range(25):
        mid = D("65000") if i % 2 == 0 else D("65650")
        HealthSample.objects.create(
            market=rebalance_market,
            taken_at=now - timedelta(minutes=120 - 5 * i),
            reference_mid=mid,
            status="green",
        )

    page = html.unescape(client_for(viewer).get("/sizing/").content.decode())

    # Each 5-minute step moves ln(1.01): per day, sqrt(288) of them.
    expected = sizing_runs.shown(D("1.01").ln() * D(288).sqrt() * 100)
    assert f'name="daily_volatility_pct" value="{expected}"' in page
    assert "Volatility from 25 health samples of the reference mid over 2.0 hours." in page
    assert 'name="price" value="65000"' in page  # the newest sample's mid
