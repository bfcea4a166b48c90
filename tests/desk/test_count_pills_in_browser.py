"""In a real browser: the nav's "Alerts N" badge is red with white text on every page (the
hedging styles of the market and hedges pages once painted it light grey), and the hedges
page's counts read dark on light grey, not white on grey. Screenshots of both pages are kept."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bots.desk.alerts import raise_alert
from bots.models import Alert
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]

WHITE = "rgb(255, 255, 255)"
STYLE = "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
# A theme colour as the page resolves it: a probe element painted with the variable.
RESOLVED = """name => {
  const probe = document.createElement("span");
  probe.style.color = `var(${name})`;
  document.body.append(probe);
  const value = getComputedStyle(probe).color;
  probe.remove();
  return value;
}"""


@pytest.mark.parametrize("where", ["overview", "market", "hedges"])
def test_the_alerts_badge_is_red_with_white_text_on_every_page(
    where, page, live_url, running_market, viewer, artifacts
):
    raise_alert(Alert.SPREAD_OUT_OF_BAND, running_market, "Spread 80 bps", "/")
    path = {
        "overview": reverse("overview"),
        "market": reverse("market", args=[running_market.slug]),
        "hedges": reverse("hedges", args=[running_market.slug]),
    }[where]
    log_in(page, live_url, viewer)
    page.wait_for_selector("nav.desk")
    page.goto(live_url + path)

    badge = page.locator("nav.desk .count")
    assert badge.inner_text() == "1"
    assert badge.evaluate(STYLE) == [WHITE, page.evaluate(RESOLVED, "--bad")]
    page.screenshot(path=artifacts / f"alerts-badge-{where}.png")


def test_the_hedges_page_counts_read_dark_on_light(page, live_url, running_market, viewer, artifacts):
    log_in(page, live_url, viewer)
    page.wait_for_selector("nav.desk")
    page.goto(live_url + reverse("hedges", args=[running_market.slug]))

    pills = page.locator("#hedges-panel h2 .count")
    assert pills.count() == 3
    fg, line = page.evaluate(RESOLVED, "--fg"), page.evaluate(RESOLVED, "--line")
    assert [pills.nth(i).evaluate(STYLE) for i in range(3)] == [[fg, line]] * 3
    page.screenshot(path=artifacts / "hedges-counts.png", full_page=True)
