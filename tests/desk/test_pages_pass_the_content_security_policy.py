"""Every page of the desk, the public demo and Django's admin, loaded in a real Chromium against
a real Daphne, comes with the Content-Security-Policy header and reports no violation of it: no
inline script or handler, nothing loaded from elsewhere, the live socket allowed."""

from __future__ import annotations

import pytest

from tests.support.browser import log_in

pytestmark = [
    pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("demo_worker"),
]

# Violations as the page sees them (the event) and as Chromium reports them (the console).
LISTEN = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


# Every page a GET renders (tests/desk/test_roles_matrix.py lists the routes); the others are
# POST actions, CSV files and a run's result.
PAGES = ["overview", "alerts", "targets", "morning-check", "audit", "rebalance", "rebalance-settings", "sizing"]
MARKET_PAGES = ["market", "market-settings", "hedges", "interventions", "targets-edit"]


def desk_pages(market) -> list[str]:
    from django.urls import reverse

    return [
        *(reverse(name) for name in PAGES),
        *(reverse(name, args=[market.slug]) for name in MARKET_PAGES),
        "/admin/", "/admin/bots/market/", f"/admin/bots/market/{market.pk}/change/",
    ]


def visit(page, url: str, console: list[str]) -> list[str]:
    response = page.goto(url)
    assert response.status == 200, f"{url}: {response.status}"
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0], url
    page.wait_for_load_state("networkidle")
    return [f"{url}: {v}" for v in page.evaluate("window.__violations")] + [
        f"{url}: {line}" for line in console
    ]


def test_every_page_passes_the_content_security_policy(browser, live_url, running_market, admin_user):
    from django.urls import reverse

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(LISTEN)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    violations = visit(page, f"{live_url}{reverse('login')}", console)
    violations += visit(page, f"{live_url}/demo?scenario=whale&seed=0", console)

    log_in(page, live_url, admin_user)
    page.wait_for_url(f"{live_url}/markets/**")
    page.wait_for_selector("#live.on")  # the market page's socket: connect-src lets it in
    for path in desk_pages(running_market):
        console.clear()
        violations += visit(page, f"{live_url}{path}", console)
    context.close()

    assert violations == []
