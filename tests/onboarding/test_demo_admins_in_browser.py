"""The demo's printed admin login, in Chromium against Daphne with two-factor on: the password
seed_demo printed, the code `manage.py demo_code admin` prints, then the Exchanges pages, which
list the demo's paper venues and accounts as paper."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from bots.management.commands.seed_demo import DEMO_ADMINS

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def test_the_printed_admin_login_reaches_the_exchanges_pages(page, live_url, artifacts, settings):
    settings.TWO_FACTOR = True  # so the demo prints the codes' command (the server has it on)
    out = io.StringIO()
    call_command("seed_demo", "--minimal", "--trades-per-minute", "0", "--new-password", stdout=out)
    admin = DEMO_ADMINS[0]
    password = out.getvalue().split(f"  {admin} ")[1].split("with password")[1].split()[0]

    page.goto(f"{live_url}/login/")
    page.fill("input[name=username]", admin)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/two-factor/**")
    code = io.StringIO()
    call_command("demo_code", admin, stdout=code)
    page.fill("input[name=code]", code.getvalue().strip())
    page.click("form:not(.logout) button[type=submit]")
    page.wait_for_url(lambda url: "/two-factor/" not in url)

    page.click("nav.desk >> text=Exchanges")
    page.wait_for_selector("#venues tr[data-kind=paper]")
    assert page.locator("#venues tr[data-kind=paper] .chip.paper").count() == 2
    page.screenshot(path=artifacts / "onboarding-venues-demo.png", full_page=True)
    page.click("nav.steps >> text=Accounts")
    page.wait_for_selector("#accounts tr[data-kind=paper]")
    assert page.locator("#accounts tr[data-kind=paper]").count() == 4
    assert page.locator("article.account").count() == 0  # no key forms for paper accounts
    page.screenshot(path=artifacts / "onboarding-accounts-demo.png", full_page=True)
    page.click("nav.desk >> text=Changes")
    page.wait_for_selector("#propose-role")
