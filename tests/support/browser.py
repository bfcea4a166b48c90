"""Driving the desk's pages in headless Chromium: logging in, opening the rebalance panel, and
calling the server's code from a test that Playwright's event loop owns."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from tests.support.users import PASSWORD


def log_in(page, live_url, user, password=PASSWORD):
    """The password, then for an operator or admin the two-factor code of an authenticator
    enrolled for them here (the server keeps two-factor on)."""
    from bots.desk import two_factor  # needs the app registry, ready once Django is set up
    from bots.desk.roles import OPERATOR, has_role

    device = None
    if has_role(user, OPERATOR) and password == PASSWORD:  # a wrong password stops at the form
        device = two_factor.device_of(user) or two_factor.enrol_for_demo(user)
    page.goto(f"{live_url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    if device is not None:
        page.wait_for_url("**/two-factor/**")
        device.refresh_from_db()
        page.fill("input[name=code]", two_factor.current_code(device))
        page.click("form:not(.logout) button[type=submit]")
        page.wait_for_url(lambda url: "/two-factor/" not in url)


def off_the_browser_thread(call):
    """Run `call` in a thread of its own: Playwright's event loop owns this one, and publishing
    to the panels (async_to_sync) refuses to run beside it."""

    def run():
        try:
            return call()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def open_panel(browser, live_url, user, init_script: str | None = None):
    """The rebalance panel, logged in as `user`, once its live socket is on."""
    context = browser.new_context(viewport={"width": 1360, "height": 1000})
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    log_in(page, live_url, user)
    page.wait_for_url(f"{live_url}/**")
    page.goto(f"{live_url}/rebalance/")
    page.wait_for_selector("#live.on")
    return context, page
