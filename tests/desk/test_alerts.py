"""Alerts: one per cause however often it is raised, acknowledged and resolved with who and
when, sent to the channels once; and the alerts page with each alert's action beside it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bots.desk.alerts import AlertStateError, acknowledge, raise_alert, resolve, resolve_cause
from bots.models import Alert, AuditEntry

pytestmark = pytest.mark.django_db


def spread_alert(market, message="Spread 60.0 bps: red past 50 bps.") -> Alert:
    return raise_alert(Alert.SPREAD_OUT_OF_BAND, market, message, f"/markets/{market.slug}/")


def test_raising_a_cause_again_updates_its_one_alert_and_notifies_once(
    demo_market, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        first = spread_alert(demo_market)
        again = spread_alert(demo_market, "Spread 70.0 bps: red past 50 bps.")

    assert first.pk == again.pk
    assert Alert.objects.get().message == "Spread 70.0 bps: red past 50 bps."
    assert again.last_seen_at >= first.last_seen_at
    assert len(queued) == 1  # the notification task, queued after commit, for the new alert only


def test_alerts_of_one_kind_are_told_apart_by_market_and_key(demo_market):
    raise_alert(Alert.HEDGE_FAILED, demo_market, "hedge 1 failed", key="hedge-1")
    raise_alert(Alert.HEDGE_FAILED, demo_market, "hedge 2 failed", key="hedge-2")
    raise_alert(Alert.WORKER_SILENT, None, "no worker")
    raise_alert(Alert.WORKER_SILENT, None, "still no worker")

    assert Alert.objects.filter(kind=Alert.HEDGE_FAILED).count() == 2
    assert Alert.objects.get(kind=Alert.WORKER_SILENT).message == "still no worker"


def test_an_unknown_kind_is_refused(demo_market):
    with pytest.raises(ValueError, match="unknown alert kind"):
        raise_alert("coffee_low", demo_market, "refill")
    assert not Alert.objects.exists()


def test_acknowledging_and_resolving_record_who_and_when_in_the_alert_and_the_audit_log(demo_market, operator):
    alert = spread_alert(demo_market)

    acknowledge(alert.pk, operator)
    resolve(alert.pk, operator)

    alert.refresh_from_db()
    assert (alert.state, alert.acknowledged_by, alert.resolved_by) == (Alert.RESOLVED, operator, operator)
    assert alert.acknowledged_at <= alert.resolved_at
    assert list(AuditEntry.objects.order_by("id").values_list("action", "actor", "subject")) == [
        ("alert acknowledged", "olivia", f"alert {alert.pk}"),
        ("alert resolved", "olivia", f"alert {alert.pk}"),
    ]


def test_a_resolved_alert_cannot_be_acknowledged_or_resolved_again(demo_market, operator):
    alert = spread_alert(demo_market)
    resolve(alert.pk, operator)

    with pytest.raises(AlertStateError, match="only an open alert can be acknowledged"):
        acknowledge(alert.pk, operator)
    with pytest.raises(AlertStateError, match="already resolved"):
        resolve(alert.pk, operator)


def test_a_cause_that_persists_after_resolution_raises_a_new_alert(demo_market, operator):
    first = spread_alert(demo_market)
    resolve(first.pk, operator)

    second = spread_alert(demo_market)

    assert second.pk != first.pk and second.state == Alert.OPEN


def test_ballast_resolves_a_cause_that_went_away_with_nobodys_name(demo_market):
    alert = spread_alert(demo_market)

    assert resolve_cause(Alert.SPREAD_OUT_OF_BAND, demo_market) == 1
    alert.refresh_from_db()
    assert (alert.state, alert.resolved_by) == (Alert.RESOLVED, None)
    assert resolve_cause(Alert.SPREAD_OUT_OF_BAND, demo_market) == 0


def test_the_page_lists_open_alerts_first_each_with_its_action(client, viewer, demo_market, operator):
    acknowledged = spread_alert(demo_market)
    acknowledge(acknowledged.pk, operator)
    raise_alert(Alert.HEDGE_FAILED, demo_market, "hedge 7 failed: InsufficientFunds", "/markets/btc-usdt/#tape",
                key="hedge-7")
    client.force_login(viewer)

    page = client.get(reverse("alerts"))

    assert page.status_code == 200
    waiting = list(page.context["waiting"])
    assert [a.kind for a in waiting] == [Alert.HEDGE_FAILED, Alert.SPREAD_OUT_OF_BAND]
    html = page.content.decode()
    assert 'href="/markets/btc-usdt/#tape">Retry, record a manual hedge or write off</a>' in html
    assert "acknowledged by olivia" in html
    assert "Acknowledge</button>" not in html  # a viewer sees, an operator acts


def test_an_operator_acknowledges_over_htmx_and_gets_the_row_back(client, operator, demo_market):
    alert = spread_alert(demo_market)
    client.force_login(operator)

    response = client.post(reverse("alert-acknowledge", args=[alert.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert f'id="alert-{alert.pk}"' in response.content.decode()
    assert "acknowledged by olivia" in response.content.decode()
    assert Alert.objects.get().state == Alert.ACKNOWLEDGED


def test_resolving_works_without_javascript_by_redirecting(client, operator, demo_market):
    alert = spread_alert(demo_market)
    client.force_login(operator)

    response = client.post(reverse("alert-resolve", args=[alert.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("alerts")
    assert "Resolved." in client.get(response["Location"]).content.decode()
    assert Alert.objects.get().resolved_by == operator


def test_acting_on_a_resolved_alert_says_why_and_changes_nothing(client, operator, demo_market):
    alert = spread_alert(demo_market)
    resolve(alert.pk, operator)
    client.force_login(operator)

    response = client.post(reverse("alert-acknowledge", args=[alert.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 409
    assert "only an open alert can be acknowledged" in response.content.decode()
    assert Alert.objects.get().acknowledged_by is None


def test_a_viewer_cannot_acknowledge(client, viewer, demo_market):
    alert = spread_alert(demo_market)
    client.force_login(viewer)

    assert client.post(reverse("alert-acknowledge", args=[alert.pk])).status_code == 403
    assert Alert.objects.get().state == Alert.OPEN


def test_the_nav_counts_unresolved_alerts(client, viewer, demo_market):
    spread_alert(demo_market)
    raise_alert(Alert.WORKER_SILENT, None, "no worker")
    client.force_login(viewer)

    assert '<span class="count" title="2 not resolved">2</span>' in client.get(reverse("targets")).content.decode()
