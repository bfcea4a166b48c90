"""In a real browser, logged out: play the whale, see the suggestion, apply it, see the bars."""

from __future__ import annotations

import pytest

pytestmark = [
    pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_worker"),
]


def bar(page, trace: int, index: int) -> float:
    return page.evaluate(f"document.getElementById('bars').data[{trace}].y[{index}]")


@pytest.fixture
def dark_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    yield context.new_page()
    context.close()


def test_a_visitor_plays_the_whale_applies_the_suggestion_and_the_bars_move_back(
    dark_page, live_url, artifacts
):
    page = dark_page
    page.goto(f"{live_url}/demo?scenario=whale&seed=0")
    page.wait_for_selector("#bars .main-svg")
    page.wait_for_selector("#lines .main-svg")
    assert "Log out" not in page.content()
    start_mm_btc = bar(page, 0, 0)
    assert start_mm_btc == pytest.approx(2)

    page.select_option("#speed", "15")
    page.click("#play")
    page.wait_for_selector("#suggestion", timeout=30_000)
    page.click("#play")  # pause
    page.wait_for_function("() => document.getElementById('play').textContent === 'Play'")
    page.wait_for_timeout(700)  # a step already on its way lands

    drained = bar(page, 0, 0)
    assert drained < 1  # the MM bot's BTC left its band: 1 to 3 BTC
    assert "from the hedge account to the MM account" in page.inner_text("#suggestion")
    points = page.evaluate("document.getElementById('lines').data[0].x.length")
    assert points > 10
    page.screenshot(path=artifacts / "demo-suggestion.png", full_page=True)

    page.click("#apply")
    page.wait_for_function(
        "(before) => document.getElementById('bars').data[0].y[0] > before", arg=drained
    )

    assert 1 <= bar(page, 0, 0) <= 3
    assert page.locator("#suggestion").count() == 0
    assert "transfers applied" in page.inner_text("#demo-panel")
    page.screenshot(path=artifacts / "demo-applied.png", full_page=True)


def test_a_refused_size_shows_its_message_in_place(page, live_url):
    page.goto(f"{live_url}/demo?scenario=steady&seed=1")
    page.wait_for_selector("#bars .main-svg")

    page.fill("#trade-size", "abc")
    page.click("#user-buys")

    error = page.wait_for_selector("#demo-error:not([hidden])")
    assert "Size must be a number" in error.inner_text()
