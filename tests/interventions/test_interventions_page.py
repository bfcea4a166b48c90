"""The interventions page per persona: viewers read, operators propose and decide (htmx or
plain forms), nobody approves their own from the page either, admins save the settings."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse

from bots.models import Intervention, InterventionSettingsVersion
from tests.support.interventions import read_balances

pytestmark = pytest.mark.django_db
I = Intervention  # noqa: E741
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def market(running_market):
    read_balances(running_market)
    running_market.refresh_from_db()
    return running_market


def url(market, name="interventions", *args):
    return reverse(name, args=[market.slug, *args])


def propose(client, market, **data):
    form = {"kind": "buyback", "where": "hedge", "amount": "0.3", "minutes": "5", "reason": "dip"}
    return client.post(url(market, "intervention-propose"), {**form, **data}, **HTMX)


def test_a_viewer_reads_the_page_without_a_button_to_press(client, market, viewer):
    client.force_login(viewer)

    page = client.get(url(market)).content.decode()

    assert "price-action interventions" in page and "None open" in page
    assert 'id="propose"' not in page and "Save as version" not in page
    assert "only admins change them" in page


def test_an_operator_proposes_and_another_approves_from_the_panel(
    client, market, operator, second_operator
):
    client.force_login(operator)
    answer = propose(client, market)

    assert answer.status_code == 200
    iv = I.objects.get()
    text = answer.content.decode()
    assert f"Proposed intervention #{iv.pk}" in text
    assert "You proposed it: another operator approves." in text
    assert 'class="approve"' not in text

    client.force_login(second_operator)
    answer = client.post(url(market, "intervention-approve", iv.pk), {"comment": "ok"}, **HTMX)

    assert "its slices start now" in answer.content.decode()
    assert I.objects.get(pk=iv.pk).state == I.RUNNING
    answer = client.post(url(market, "intervention-pause", iv.pk), {"comment": ""}, **HTMX)
    assert answer.status_code == 422 and "Say why you pause it" in answer.content.decode()
    client.post(url(market, "intervention-pause", iv.pk), {"comment": "news"}, **HTMX)
    assert I.objects.get(pk=iv.pk).state == I.PAUSED


def test_without_javascript_an_action_redirects_with_its_message(client, market, operator):
    client.force_login(operator)

    answer = client.post(url(market, "intervention-propose"), {
        "kind": "unwind", "where": "hedge", "amount": "0.2", "minutes": "3", "reason": "",
    }, follow=True)

    assert answer.redirect_chain[-1][0] == url(market)
    assert "Proposed intervention #" in answer.content.decode()
    assert I.objects.get().kind == I.UNWIND


def test_an_operator_cannot_approve_their_own_by_posting(client, market, operator):
    client.force_login(operator)
    propose(client, market)
    iv = I.objects.get()

    answer = client.post(url(market, "intervention-approve", iv.pk), {"comment": ""}, **HTMX)

    assert answer.status_code == 422
    assert "You proposed intervention" in answer.content.decode()
    assert I.objects.get().state == I.PROPOSED


def test_another_markets_intervention_is_not_found_here(client, market, operator):
    client.force_login(operator)
    propose(client, market)
    iv = I.objects.get()

    answer = client.post(reverse("intervention-approve", args=["no-such", iv.pk]), **HTMX)

    assert answer.status_code == 404


def test_admins_save_the_settings_as_a_version_and_operators_may_not(
    client, market, operator, admin_user
):
    form = {p: v for p, v in {
        "detect": "on", "flow_window_minutes": "15", "flow_threshold": "2", "mid_move_pct": "1",
        "imbalance_ratio": "3", "inventory_check": "on", "cooldown_minutes": "30",
        "default_amount": "0.1", "duration_minutes": "30", "limit_bps": "50", "where": "hedge",
        "slice_seconds": "60", "jitter": "0.5", "participation_pct": "20",
        "participation_window_minutes": "5", "version": "0", "reason": "switch them on",
    }.items()}
    client.force_login(operator)
    assert client.post(url(market, "intervention-settings"), form).status_code == 403

    client.force_login(admin_user)
    answer = client.post(url(market, "intervention-settings"), form, follow=True)

    version = InterventionSettingsVersion.objects.get()
    assert version.changes["flow_threshold"] == {"old": "0", "new": "2"}
    assert "Saved as version 1" in answer.content.decode()
    assert market.intervention_settings.imbalance_ratio == D("3")
    refused = client.post(url(market, "intervention-settings"), {**form, "imbalance_ratio": "1"})
    assert refused.status_code == 422 and "must be above 1" in refused.content.decode()
