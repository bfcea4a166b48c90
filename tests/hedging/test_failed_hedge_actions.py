"""The failed-hedges panel: each failed hedge with its fill, error and attempts; retry, record a
manual hedge or write it off, operators only, each recorded; bad input changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from bots.hedging import hedger
from bots.market_making import operator_commands
from bots.models import AuditEntry, Hedge, HedgeCover, HedgeOrder, HedgeSettings
from bots.venues import faults
from tests.support.hedging_world import one_fill, set_faults

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def failed(hedging_market):
    """A hedge whose only ladder step filled part of it: failed with 0.05 - part left."""
    faults.reset()
    HedgeSettings.objects.create(market=hedging_market, ladder_steps=0)
    set_faults("external", {"partial": 1.0}, seed=5)
    hedge = one_fill(hedging_market, "buy", "0.05")
    assert hedger.execute_hedge(hedge.pk).state == Hedge.FAILED
    set_faults("external", None)
    hedge.refresh_from_db()
    assert D(0) < hedge.filled < hedge.amount
    return hedge


def url(name: str, hedge: Hedge) -> str:
    return reverse(name, args=["btc-usdt", hedge.pk])


def snapshot_of(hedge: Hedge) -> tuple:
    hedge.refresh_from_db()
    return hedge.state, hedge.filled, hedge.error, hedge.covers.count(), AuditEntry.objects.count()


def test_the_panel_shows_each_failed_hedge_with_its_fill_error_attempts_and_orders(client, viewer, failed):
    client.force_login(viewer)

    page = client.get(reverse("hedges", args=["btc-usdt"]))

    assert page.status_code == 200
    [row] = page.context["failed"]
    assert row["hedge"] == failed and row["left"] == failed.remaining
    html = page.content.decode()
    assert f"Hedge {failed.pk}" in html and failed.fill.trade_id in html
    assert "ladder exhausted" in html and "1 attempt," in html
    assert HedgeOrder.objects.get().client_order_id in html
    assert "Record manual hedge" not in html  # a viewer sees, does not act


def test_a_viewer_cannot_act_and_nothing_changes(client, viewer, failed):
    client.force_login(viewer)
    before = snapshot_of(failed)

    for name, data in [("hedge-retry", {}), ("hedge-write-off", {"reason": "no"}),
                       ("hedge-manual", {"venue": "x", "price": "1", "amount": "0.01", "reference": "r"})]:
        assert client.post(url(name, failed), data).status_code == 403

    assert snapshot_of(failed) == before


def test_retry_puts_the_hedge_back_in_the_queue_and_is_recorded(
    client, operator, failed, django_capture_on_commit_callbacks
):
    client.force_login(operator)

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(url("hedge-retry", failed), HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and b"is pending again" in response.content
    assert len(queued) == 1  # the hedge task, after the commit
    failed.refresh_from_db()
    assert (failed.state, failed.step, failed.error) == (Hedge.PENDING, 0, "")
    entry = AuditEntry.objects.get(action="hedge_retry")
    assert (entry.user, entry.subject) == (operator, f"hedge {failed.pk}")
    assert "ladder exhausted" in entry.reason  # the error it was retried from
    assert hedger.execute_hedge(failed.pk).state == Hedge.FILLED


def test_only_a_failed_hedge_can_be_retried(client, operator, failed):
    Hedge.objects.filter(pk=failed.pk).update(state=Hedge.WAITING)
    client.force_login(operator)
    before = snapshot_of(failed)

    response = client.post(url("hedge-retry", failed), HTTP_HX_REQUEST="true")

    assert response.status_code == 422
    assert b"is waiting: only a failed hedge can be retried" in response.content
    assert snapshot_of(failed) == before


def test_a_manual_hedge_closes_what_it_covers(client, operator, failed):
    client.force_login(operator)
    left = failed.remaining
    half = (left / 2).quantize(D("0.00001"))

    first = client.post(url("hedge-manual", failed), {
        "venue": "OTC desk", "price": "65100.5", "amount": str(half), "reference": "otc-17",
    })
    assert first.status_code == 302
    failed.refresh_from_db()
    assert (failed.state, failed.remaining) == (Hedge.FAILED, left - half)

    second = client.post(url("hedge-manual", failed), {
        "venue": "OTC desk", "price": "65101", "amount": str(left - half), "reference": "otc-18",
    }, HTTP_HX_REQUEST="true")
    assert second.status_code == 200, second.content.decode()[:300]

    failed.refresh_from_db()
    assert (failed.state, failed.filled) == (Hedge.MANUAL, failed.amount)
    manual = list(failed.covers.filter(kind=HedgeCover.MANUAL).order_by("pk"))
    assert [(c.venue, c.reference, c.amount, c.price, c.user) for c in manual] == [
        ("OTC desk", "otc-17", half, D("65100.5"), operator),
        ("OTC desk", "otc-18", left - half, D("65101"), operator),
    ]
    assert failed.pnl_quote is not None and failed.done_at is not None
    assert AuditEntry.objects.filter(action="hedge_manual", user=operator).count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"venue": "", "price": "1", "amount": "0.001", "reference": "r"}, "venue: This field is required."),
        ({"venue": "x", "price": "0", "amount": "0.001", "reference": "r"}, "The price must be above 0."),
        ({"venue": "x", "price": "lots", "amount": "0.001", "reference": "r"}, "price: Enter a number."),
        ({"venue": "x", "price": "1", "amount": "5", "reference": "r"}, "5 BTC is more than the"),
        ({"venue": "x", "price": "1", "amount": "0.001", "reference": " "}, "reference: This field is required."),
    ],
)
def test_a_bad_manual_hedge_is_refused_with_a_message_and_changes_nothing(client, operator, failed, data, message):
    client.force_login(operator)
    before = snapshot_of(failed)

    response = client.post(url("hedge-manual", failed), data, HTTP_HX_REQUEST="true")

    assert response.status_code == 422
    assert message in response.content.decode()
    assert snapshot_of(failed) == before


def test_no_manual_hedge_while_an_order_of_it_may_be_on_the_venue(failed):
    HedgeOrder.objects.filter(hedge=failed).update(state=HedgeOrder.SENDING)

    with pytest.raises(operator_commands.CommandRefused, match="outcome is not known"):
        operator_commands.record_manual_hedge(
            failed.pk, venue="x", price="1", amount="0.001", reference="r", actor="test"
        )
    assert not failed.covers.filter(kind=HedgeCover.MANUAL).exists()


def test_write_off_needs_a_reason_and_keeps_it(client, operator, failed):
    client.force_login(operator)
    before = snapshot_of(failed)

    refused = client.post(url("hedge-write-off", failed), {"reason": "  "}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and snapshot_of(failed) == before

    client.post(url("hedge-write-off", failed), {"reason": "too small to chase after the move"})

    failed.refresh_from_db()
    assert failed.state == Hedge.WRITTEN_OFF
    assert failed.error == "written off: too small to chase after the move"
    assert failed.remaining > 0  # what was not hedged stays visible
    entry = AuditEntry.objects.get(action="hedge_write_off")
    assert (entry.user, entry.reason) == (operator, "too small to chase after the move")
    assert D(entry.details["unhedged"]) == failed.remaining


def test_a_hedge_of_another_market_is_not_found_from_this_one(client, operator, failed):
    from bots.models import Market

    other = Market.objects.get(pk=failed.fill.market_id)
    Market.objects.filter(pk=other.pk).update(slug="eth-usdt")
    client.force_login(operator)

    assert client.post(reverse("hedge-retry", args=["btc-usdt", failed.pk])).status_code == 404
