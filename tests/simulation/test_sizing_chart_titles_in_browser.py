"""In a real browser: the sizing answer's two chart titles read whole, inside their charts, at
the desk's usual 1360 px and in a narrow window (they were clipped on both sides: "ays until
... horizon"). Screenshots of both widths are kept."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.utils import timezone

from bots.models import SizingRun
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]

INPUTS = {
    "trades_per_minute": "12", "mean_size": "0.05", "buy_share": "0.55", "price": "65000",
    "daily_volatility_pct": "3", "mm_half_spread_bps": "15", "hedge_cost_bps": "30",
    "mm_base": "2", "mm_quote": "130000", "hedge_base": "2", "hedge_quote": "130000",
    "floor_base": "1", "floor_quote": "65000", "horizon_days": "7", "confidence_pct": "95",
}
ANSWER = {
    "need_mm_base": "3.1912", "need_mm_quote": "209000.4", "need_hedge_base": "3.05",
    "need_hedge_quote": "204100", "share_dry": "0.62", "median_days_to_dry": "4.23",
    "p05_days_to_dry": "0.98", "edge_mean": "1234.5", "edge_p05": "1010", "edge_p95": "1488",
}
# Each title's box and its chart's, as the page lays them out.
BOXES = """chart => {
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.right]; };
  const title = chart.querySelector(".gtitle");
  return { title: title.textContent, inside: box(title), chart: box(chart) };
}"""


@pytest.fixture
def answered(rebalance_market, operator) -> SizingRun:
    return SizingRun.objects.create(
        market=rebalance_market, user=operator, actor=operator.username, state=SizingRun.DONE,
        progress=1, paths=1000, seed=42, step_seconds=7, finished_at=timezone.now(),
        histograms={
            "days_to_dry": {"edges": [0.0, 3.5, 7.0], "counts": [300, 320], "not_finite": 380},
            "edge": {"edges": [0.0, 500.0, 1000.0], "counts": [400, 600], "not_finite": 0},
        },
        **{name: D(value) for name, value in {**INPUTS, **ANSWER}.items()},
    )


@pytest.mark.parametrize("width", [1360, 480])
def test_both_chart_titles_read_whole_inside_their_charts(width, page, live_url, answered, viewer, artifacts):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_url, viewer)
    page.wait_for_url(f"{live_url}/**")
    page.goto(f"{live_url}/sizing/")

    for chart_id in (f"days-{answered.pk}", f"edge-{answered.pk}"):
        page.wait_for_selector(f"#{chart_id} .gtitle")
        seen = page.locator(f"#{chart_id}").evaluate(BOXES)
        (left, right), (chart_left, chart_right) = seen["inside"], seen["chart"]
        assert chart_left <= left and right <= chart_right, seen
    page.screenshot(path=artifacts / f"sizing-titles-{width}.png", full_page=True)
