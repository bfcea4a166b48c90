"""In a real browser: the rebalance panel refreshes itself live (a websocket nudge, then its own
HTML over HTTP) while an operator types into it and while their "Plan now" is on its way. The
button's answer lands in its note, and nothing typed is lost."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bots.models import PaperBalance
from dashboard.live.rebalance_push import publish_rebalance
from tests.support.browser import off_the_browser_thread, open_panel

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]

COUNT_PANEL_SWAPS = """() => {
  window.__panelSwaps = 0;
  document.body.addEventListener("htmx:afterSettle", (e) => {
    if (e.detail.elt && e.detail.elt.id === "rebalance-panel") window.__panelSwaps += 1;
  });
}"""


def wait_for_a_panel_swap(page, after: int) -> int:
    page.wait_for_function(f"() => window.__panelSwaps > {after}", timeout=15_000)
    return page.evaluate("window.__panelSwaps")


@pytest.mark.parametrize("move_before", [True, False], ids=["moveBefore", "without-moveBefore"])
def test_plan_now_answers_in_its_note_and_a_live_refresh_keeps_what_was_typed(
    browser, live_url, rebalance_market, operator, move_before
):
    # The MM account is below its BTC band: "Plan now" will propose a transfer.
    PaperBalance.objects.filter(account=rebalance_market.mm_account, asset="BTC").update(
        free=D("0.6")
    )
    hedge = rebalance_market.hedge_account
    # htmx keeps a preserved field focused through a swap only with Element.moveBefore (recent
    # Chromium); other browsers lose the focus unless the page gives it back.
    init = None if move_before else "delete Element.prototype.moveBefore"
    context, page = open_panel(browser, live_url, operator, init_script=init)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.evaluate(COUNT_PANEL_SWAPS)
        page.select_option("#id_source", str(hedge.pk))
        page.fill("#propose-asset", "BTC")
        page.fill("#propose-amount", "0.25")
        page.fill("#propose-reason", "topping up before the US open")

        # Hold the button's answer until the live refresh has refreshed the panel: the order the
        # two arrive in when the planner's nudge is quicker than the answer (the button's form
        # is gone with the old panel by the time its answer comes).
        held = []
        page.route("**/rebalance/plan", lambda route: held.append((route, route.fetch())))
        page.click("#open-proposals button:has-text('Plan now')")
        page.wait_for_selector("#open-proposals article.transfer[data-state='proposed']")
        swaps = wait_for_a_panel_swap(page, 0)
        assert len(held) == 1
        route, answer = held[0]
        route.fulfill(response=answer)

        page.wait_for_selector("#rebalance-note #panel-note.ok")
        assert page.inner_text("#panel-note") == "Planner ran: 1 new proposal."
        assert page.input_value("#id_source") == str(hedge.pk)
        assert page.input_value("#propose-asset") == "BTC"
        assert page.input_value("#propose-amount") == "0.25"
        assert page.input_value("#propose-reason") == "topping up before the US open"
        assert page.locator("#propose button[type=submit]").count() == 1
        card = page.locator("#open-proposals article.transfer").first
        assert card.locator("input[name=comment]").count() == 1

        # Typing while a live refresh lands: the field keeps its text, its focus and its caret.
        # The note's own nudge refreshes the panel once more; wait for it to settle first.
        swaps = wait_for_a_panel_swap(page, swaps)
        comment = card.locator("input[name=comment]")
        comment_id = comment.get_attribute("id")
        comment.click()
        page.keyboard.type("looks right, ")
        off_the_browser_thread(lambda: publish_rebalance(None))
        swaps = wait_for_a_panel_swap(page, swaps)
        page.keyboard.type("approving")
        assert page.input_value(f"#{comment_id}") == "looks right, approving"
        assert page.evaluate("document.activeElement.id") == comment_id
        assert page.input_value("#propose-reason") == "topping up before the US open"
        shot = f"/tmp/rebalance-typing-{'with' if move_before else 'without'}-moveBefore.png"
        page.screenshot(path=shot, full_page=True)

        assert problems == []
    finally:
        context.close()
