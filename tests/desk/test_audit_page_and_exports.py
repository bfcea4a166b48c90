"""The audit log page (filters, pages) and the CSV exports of the log, fills and hedges."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bots.desk.audit import record
from bots.models import AuditEntry, Fill, Hedge

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="ballast-')
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def entries(demo_market, operator):
    record("pause", user=operator, market=demo_market, subject="market btc-usdt", reason="maintenance window")
    record("breaker", actor="price breaker", market=demo_market, reason="reference moved 3%", move_pct=Decimal("3"))
    record("approve", user=operator, subject="transfer 4", reason="=HYPERLINK(\"http://evil\")")


def test_the_log_is_filtered_by_action_actor_market_and_text(client, viewer, entries):
    client.force_login(viewer)

    def subjects(**query):
        page = client.get(reverse("audit"), query)
        assert page.status_code == 200
        return [e.subject or e.reason for e in page.context["page"]]

    assert len(subjects()) == 3
    assert subjects(action="pause") == ["market btc-usdt"]
    assert subjects(actor="Price Breaker") == ["reference moved 3%"]
    assert subjects(market="btc-usdt", q="maint") == ["market btc-usdt"]
    assert subjects(since=timezone.now().date().isoformat()) and not subjects(
        until=(timezone.now() - timedelta(days=1)).date().isoformat()
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "yesterday"}, "Enter a valid date."),
        ({"since": "2025-02-02", "until": "2025-02-01"}, "The first day comes after the last one."),
        ({"market": "nope"}, "Select a valid choice."),
    ],
)
def test_bad_filters_get_a_message(client, viewer, entries, query, message):
    client.force_login(viewer)

    response = client.get(reverse("audit"), query)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_log_pages_fifty_at_a_time_and_htmx_gets_the_rows_only(client, viewer, demo_market):
    for i in range(60):
        record("note", actor="test", subject=f"entry {i}")
    client.force_login(viewer)

    first = client.get(reverse("audit"))
    second = client.get(reverse("audit"), {"page": 2}, HTTP_HX_REQUEST="true")

    assert len(first.context["page"]) == 50 and "older →" in first.content.decode()
    assert second.content.decode().startswith('<div id="audit-rows">')
    assert [e.subject for e in second.context["page"]] == [f"entry {i}" for i in range(9, -1, -1)]


def test_the_csv_export_follows_the_filters_and_defuses_formulas(client, viewer, entries):
    client.force_login(viewer)

    rows = csv_rows(client.get(reverse("audit-csv"), {"actor": "olivia"}))

    assert [r["action"] for r in rows] == ["approve", "pause"]
    assert rows[0]["reason"] == "'=HYPERLINK(\"http://evil\")"  # a spreadsheet shows it, never runs it
    assert rows[1]["market"] == "BTC/USDT"
    breaker = csv_rows(client.get(reverse("audit-csv"), {"action": "breaker"}))[0]
    assert breaker["details"] == '{"move_pct": "3"}'


def test_fills_and_hedges_export_every_column_with_exact_decimals(client, viewer, demo_market):
    fill = Fill.objects.create(
        venue=demo_market.mm_account.venue, account=demo_market.mm_account, market=demo_market, trade_id="t-9",
        order_id="o-1", side="sell", price=Decimal("65000.01"), amount=Decimal("0.12345"),
        cost=Decimal("8024.2512345"), fee=Decimal("0"), timestamp=1_700_000_000_000,
    )
    Hedge.objects.create(fill=fill, account=demo_market.hedge_account, side="buy", amount=Decimal("0.12345"),
                         client_order_id="bh-9", state=Hedge.FAILED, error="-2010 insufficient balance")
    client.force_login(viewer)

    (fill_row,) = csv_rows(client.get(reverse("export", args=["fills"]), {"market": "btc-usdt"}))
    (hedge_row,) = csv_rows(client.get(reverse("export", args=["hedges"])))

    assert (fill_row["market"], fill_row["trade_id"], fill_row["side"]) == ("BTC/USDT", "t-9", "sell")
    assert fill_row["price"] == "65000.010000000000000000"
    assert fill_row["cost"] == "8024.251234500000000000"
    assert (hedge_row["market"], hedge_row["fill_id"], hedge_row["state"]) == ("BTC/USDT", str(fill.pk), "failed")
    assert hedge_row["error"] == "'-2010 insufficient balance"


def test_an_export_of_days_with_nothing_is_just_the_header(client, viewer, demo_market):
    client.force_login(viewer)

    response = client.get(reverse("export", args=["fills"]), {"until": "2001-01-01"})

    assert csv_rows(response) == []


def test_an_unknown_export_is_404(client, viewer):
    client.force_login(viewer)

    assert client.get("/exports/passwords.csv").status_code == 404


def test_a_bad_export_period_gets_a_message(client, viewer, demo_market):
    client.force_login(viewer)

    response = client.get(reverse("export", args=["fills"]), {"since": "soon"})

    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    assert AuditEntry.objects.count() == 0
