"""Four-eyes in a real Chromium against a real Daphne, two-factor on as in production: one
admin logs in with their code and proposes a role, sees no Confirm on it; a second admin
confirms it in place (htmx), and the role is granted."""

from __future__ import annotations

import pytest

from bots.desk.roles import ADMIN, has_role
from bots.models import ChangeRequest
from tests.support.browser import log_in
from tests.support.users import make_user

pytestmark = [pytest.mark.browser, pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def test_a_second_admin_confirms_a_role_the_first_proposed(browser, live_url, operator, artifacts):
    ada, bea = make_user("ada", "admin"), make_user("bea", "admin")
    first = browser.new_context(viewport={"width": 1280, "height": 900})
    page = first.new_page()
    log_in(page, live_url, ada)
    page.goto(f"{live_url}/changes/")
    page.select_option("select[name=user]", operator.username)
    page.select_option("select[name=role]", "admin")
    page.select_option("select[name=action]", "grant")
    page.fill("input[name=reason]", "weekend cover")
    page.click("#propose-role button[type=submit]")
    page.wait_for_selector("text=Another admin must confirm it")
    change = ChangeRequest.objects.get()
    row = f"#change-{change.pk}"
    assert page.locator(f"{row} >> text=Confirm").count() == 0
    assert page.locator(f"{row} >> text=Cancel").count() == 1
    first.close()

    second = browser.new_context(viewport={"width": 1280, "height": 900})
    page = second.new_page()
    log_in(page, live_url, bea)
    page.goto(f"{live_url}/changes/")
    page.click(f"{row} >> text=Confirm")
    page.wait_for_selector(f"{row}.change-applied")
    page.screenshot(path=artifacts / "changes-confirmed.png", full_page=True)
    second.close()

    assert has_role(operator, ADMIN)
    assert ChangeRequest.objects.get().decided_by == bea
