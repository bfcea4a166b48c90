"""The rebalance panel and its actions: who sees and may do what, htmx partials and plain POSTs,
clear messages for bad input and lost races, and the admin's settings (audited)."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from django.urls import reverse

from bots.models import (
    AuditEntry,
    ChangeRequest,
    InventoryBand,
    PaperBalance,
    RebalancePolicy,
    TransferProposal,
    WhitelistAddress,
    WithdrawalNetwork,
)
from bots.simulation import demo_seed
from bots.treasury import rebalancing
from bots.treasury.balances import refresh_balances
from tests.support.users import make_user

pytestmark = pytest.mark.django_db
P = TransferProposal
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def proposal(rebalance_market):
    PaperBalance.objects.filter(account=rebalance_market.mm_account, asset="BTC").update(
        free=D("0.6")
    )
    PaperBalance.objects.filter(account=rebalance_market.hedge_account, asset="BTC").update(
        free=D("3.4")
    )
    for account in (rebalance_market.mm_account, rebalance_market.hedge_account):
        refresh_balances(account, ["BTC"])
    [p] = rebalancing.plan_transfers()
    return p


def test_anonymous_visitors_are_sent_to_log_in(client, rebalance_market):
    response = client.get(reverse("rebalance"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_viewer_sees_the_proposal_with_its_reason_and_bars_but_no_buttons(
    client, viewer, proposal
):
    client.force_login(viewer)
    page = client.get(reverse("rebalance")).content.decode()

    assert f'id="transfer-{proposal.pk}"' in page
    assert "MM bot @ Own exchange holds 0.60000 BTC, below its minimum 1.00000" in page
    assert 'class="marker after"' in page and 'class="band"' in page
    assert (
        "Approve</button>" not in page
        and "Plan now" not in page
        and "Propose a transfer" not in page
    )


def test_an_operator_sees_approve_and_reject(client, operator, proposal):
    client.force_login(operator)
    page = client.get(reverse("rebalance")).content.decode()

    assert reverse("transfer-approve", args=[proposal.pk]) in page
    assert "Approve</button>" in page and "Reject</button>" in page


def test_the_page_shows_inventory_runway_and_exposure(client, viewer, proposal):
    client.force_login(viewer)
    page = client.get(reverse("rebalance")).content.decode()

    assert "BTC/USDT</strong> net exposure" in page
    assert 'data-asset="BTC"' in page and 'data-asset="USDT"' in page
    assert "not draining" in page  # no trading history yet: no runway figure


def test_a_broker_markets_line_is_told_apart_from_the_book_of_its_symbol(client, viewer, proposal):
    demo_seed.seed_broker_market()  # BTC/USDT as firm quotes, beside the BTC/USDT book
    client.force_login(viewer)
    page = client.get(reverse("rebalance")).content.decode()

    assert "BTC/USDT</strong> net exposure" in page  # the book
    assert re.search(r"BTC/USDT</strong> <span[^>]*>OTC</span> net exposure", page)


def test_htmx_gets_the_inside_of_the_panel_alone(client, viewer, proposal):
    client.force_login(viewer)
    response = client.get(reverse("rebalance"), **HTMX)

    body = response.content.decode()
    assert 'id="open-proposals"' in body and f'id="transfer-{proposal.pk}"' in body
    # The panel element stays in the page; its live refresh swaps what is inside it.
    assert 'id="rebalance-panel"' not in body and "<html" not in body


def test_approving_through_htmx_answers_the_note_and_asks_the_panel_to_refresh(
    client, operator, proposal
):
    client.force_login(operator)
    response = client.post(
        reverse("transfer-approve", args=[proposal.pk]), {"comment": "ok"}, **HTMX
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert f"Approved transfer #{proposal.pk}: it may be sent." in body
    assert 'id="panel-note"' in body and "<section" not in body  # the note, not the panel
    assert response["HX-Trigger-After-Swap"] == "rebalance-changed"
    assert P.objects.get(pk=proposal.pk).state == P.APPROVED
    panel = client.get(reverse("rebalance"), **HTMX).content.decode()
    assert "Record sent</button>" in panel and "Withdraw through External exchange</button>" in panel


def test_approving_without_javascript_redirects_with_a_message(client, operator, proposal):
    client.force_login(operator)
    response = client.post(reverse("transfer-approve", args=[proposal.pk]), {"comment": ""})

    assert response.status_code == 302
    assert response["Location"] == reverse("rebalance") + f"#transfer-{proposal.pk}"
    assert f"Approved transfer #{proposal.pk}" in client.get(response["Location"]).content.decode()


def test_the_second_click_gets_409_and_says_who_won(client, operator, second_operator, proposal):
    rebalancing.approve(proposal.pk, second_operator)
    client.force_login(operator)

    response = client.post(reverse("transfer-approve", args=[proposal.pk]), **HTMX)

    assert response.status_code == 409
    assert f"Transfer #{proposal.pk} is already approved by oscar." in response.content.decode()


def test_a_viewer_cannot_approve(client, viewer, proposal):
    client.force_login(viewer)
    response = client.post(reverse("transfer-approve", args=[proposal.pk]))

    assert response.status_code == 403
    assert P.objects.get(pk=proposal.pk).state == P.PROPOSED


def test_an_unknown_transfer_is_a_clear_400(client, operator, proposal):
    client.force_login(operator)
    response = client.post(reverse("transfer-approve", args=[9999]), **HTMX)

    assert (
        response.status_code == 400 and "There is no transfer #9999." in response.content.decode()
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "x", "fee": "0", "txid": "0xa"}, "amount: Enter a number."),
        (
            {"amount": "1", "fee": "-1", "txid": "0xa"},
            "fee: Ensure this value is greater than or equal to 0.",
        ),
        (
            {"amount": "1", "fee": "0", "txid": ""},
            "Transaction id or hash: This field is required.",
        ),
        ({"amount": "9", "fee": "0", "txid": "0xa"}, "at most the"),
    ],
)
def test_bad_input_when_recording_a_transfer_sent_changes_nothing(
    client, operator, proposal, data, message
):
    rebalancing.approve(proposal.pk, operator)
    client.force_login(operator)

    response = client.post(reverse("transfer-sent", args=[proposal.pk]), data, **HTMX)

    assert response.status_code == 400 and message in response.content.decode()
    assert P.objects.get(pk=proposal.pk).state == P.APPROVED


def test_an_operator_proposes_by_hand_and_bad_input_is_explained(
    client, operator, proposal, rebalance_market
):
    client.force_login(operator)
    url = reverse("rebalance-propose")
    accounts = {
        "source": rebalance_market.mm_account.pk,
        "destination": rebalance_market.hedge_account.pk,
    }

    bad = client.post(url, {**accounts, "asset": "usdt", "network": "trc20", "amount": "5"}, **HTMX)
    assert (
        bad.status_code == 400
        and "The minimum USDT withdrawal over TRC20 is 10." in bad.content.decode()
    )
    good = client.post(
        url,
        {**accounts, "asset": "usdt", "network": "trc20", "amount": "1000", "reason": "top up"},
        **HTMX,
    )
    assert good.status_code == 200 and "Proposed transfer" in good.content.decode()
    made = P.objects.get(asset="USDT")
    assert (made.origin, made.proposed_by, made.reason) == (P.MANUAL, operator, "top up")


def test_plan_now_runs_the_planner(client, operator, rebalance_market):
    PaperBalance.objects.filter(account=rebalance_market.mm_account, asset="BTC").update(
        free=D("0.6")
    )
    client.force_login(operator)

    response = client.post(reverse("rebalance-plan"), **HTMX)

    assert "Planner ran: 1 new proposal." in response.content.decode()
    assert P.objects.filter(state=P.PROPOSED).count() == 1


# --- settings -----------------------------------------------------------------------------------


def test_everyone_sees_the_settings_and_only_admins_get_the_forms(
    client, operator, admin_user, rebalance_market
):
    client.force_login(operator)
    page = client.get(reverse("rebalance-settings")).content.decode()
    assert "changing these needs the admin role" in page and "Save band" not in page
    client.force_login(admin_user)
    assert "Save band" in client.get(reverse("rebalance-settings")).content.decode()


def test_an_admin_changes_a_band_and_the_audit_log_keeps_before_and_after(
    client, admin_user, rebalance_market
):
    client.force_login(admin_user)
    data = {
        "account": rebalance_market.mm_account.pk,
        "asset": "btc",
        "unit": "amount",
        "minimum": "0.5",
        "target": "2",
        "maximum": "3.5",
        "reserve": "0.2",
    }

    response = client.post(reverse("rebalance-band"), data)

    assert response.status_code == 302
    band = InventoryBand.objects.get(account=rebalance_market.mm_account, asset="BTC")
    assert (band.minimum, band.maximum, band.reserve) == (D("0.5"), D("3.5"), D("0.2"))
    entry = AuditEntry.objects.get(action="band saved")
    assert (entry.details["before"]["minimum"], entry.details["after"]["minimum"]) == ("1", "0.5")
    assert (
        entry.details["before"]["reserve"] == "0.1" and entry.details["after"]["reserve"] == "0.2"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"minimum": "3", "maximum": "2"}, "minimum ≤ target ≤ maximum"),
        ({"unit": "share", "maximum": "2"}, "at most 1"),
        (
            {"unit": "share", "minimum": "0.2", "target": "0.25", "maximum": "0.3"},
            "needs the market",
        ),
        ({"minimum": "-1"}, "greater than or equal to 0"),
    ],
)
def test_a_bad_band_is_refused_with_a_message(
    client, admin_user, rebalance_market, change, message
):
    client.force_login(admin_user)
    data = {
        "account": rebalance_market.mm_account.pk,
        "asset": "BTC",
        "unit": "amount",
        "minimum": "1",
        "target": "2",
        "maximum": "3",
        "reserve": "0",
        **change,
    }

    response = client.post(reverse("rebalance-band"), data)

    assert response.status_code == 400 and message in response.content.decode()
    assert InventoryBand.objects.get(account=rebalance_market.mm_account, asset="BTC").minimum == 1
    assert not AuditEntry.objects.filter(action="band saved").exists()


def test_an_operator_cannot_change_a_policy(client, operator, rebalance_market):
    client.force_login(operator)
    response = client.post(
        reverse("rebalance-policy"), {"asset": "BTC", "two_approvers_above": "100"}
    )

    assert response.status_code == 403
    assert RebalancePolicy.objects.get(asset="BTC").two_approvers_above == 2


def test_an_admin_proposes_a_policy_within_its_bounds_and_a_second_confirms_it(client, admin_user, rebalance_market):
    client.force_login(admin_user)
    base = {
        "asset": "BTC",
        "two_approvers_above": "1",
        "runway_alert_hours": "4",
        "flow_window_minutes": "30",
        "proposal_ttl_minutes": "60",
        "max_fee_share": "0.02",
        "arrival_tolerance": "0.001",
    }

    bad = client.post(reverse("rebalance-policy"), {**base, "max_fee_share": "0.9"})
    assert bad.status_code == 400 and "less than or equal to 0.5" in bad.content.decode()
    proposed = client.post(reverse("rebalance-policy"), {**base, "auto_execute": "on"})
    assert proposed.status_code == 302 and proposed.url == reverse("changes")
    # Nothing applies until a second admin confirms (tests/desk/test_four_eyes_changes.py).
    assert RebalancePolicy.objects.get(asset="BTC").auto_execute is False
    change = ChangeRequest.objects.get(state="pending")
    client.force_login(make_user("bea", "admin"))
    client.post(reverse("change-confirm", args=[change.pk]))
    policy = RebalancePolicy.objects.get(asset="BTC")
    assert (policy.two_approvers_above, policy.auto_execute, policy.flow_window_minutes) == (
        1,
        True,
        30,
    )


def test_an_admin_whitelists_and_removes_an_address_from_the_page(
    client, admin_user, rebalance_market
):
    client.force_login(admin_user)
    client.post(
        reverse("rebalance-whitelist"),
        {
            "account": rebalance_market.hedge_account.pk,
            "asset": "ETH",
            "network": "ERC20",
            "address": "0xfeed",
        },
    )
    entry = WhitelistAddress.objects.get(asset="ETH")
    client.post(reverse("rebalance-whitelist-remove", args=[entry.pk]))

    entry.refresh_from_db()
    assert entry.removed_by == admin_user
    assert [e.action for e in AuditEntry.objects.order_by("id")] == [
        "whitelist added",
        "whitelist removed",
    ]


def test_a_second_admin_confirms_a_whitelisted_address_from_the_page(
    client, admin_user, rebalance_market
):
    client.force_login(admin_user)
    client.post(
        reverse("rebalance-whitelist"),
        {"account": rebalance_market.hedge_account.pk, "asset": "ETH", "network": "ERC20",
         "address": "0xfeed"},
    )
    entry = WhitelistAddress.objects.get(asset="ETH")
    confirm_url = reverse("rebalance-whitelist-confirm", args=[entry.pk])
    page = client.get(reverse("rebalance-settings")).content.decode()
    assert "awaits a second admin" in page and confirm_url not in page  # not for who added it

    refused = client.post(confirm_url, follow=True).content.decode()
    assert "a second admin must confirm it" in refused
    entry.refresh_from_db()
    assert entry.awaiting_second_admin

    second = make_user("grace", "admin")
    client.force_login(second)
    assert confirm_url in client.get(reverse("rebalance-settings")).content.decode()
    client.post(confirm_url)

    entry.refresh_from_db()
    assert (entry.awaiting_second_admin, entry.confirmed_by) == (False, second)
    assert "confirmed by grace" in client.get(reverse("rebalance-settings")).content.decode()


def test_an_admin_adds_a_withdrawal_network_and_a_step_must_be_a_power_of_ten(
    client, admin_user, rebalance_market
):
    client.force_login(admin_user)
    venue = rebalance_market.hedge_account.venue.pk
    data = {
        "venue": venue,
        "asset": "btc",
        "network": "lightning",
        "fee": "0.00001",
        "minimum": "0.0001",
        "step": "0.5",
        "arrival_minutes": "1",
        "enabled": "on",
    }

    bad = client.post(reverse("rebalance-network"), data)
    assert bad.status_code == 400 and "power of ten" in bad.content.decode()
    client.post(reverse("rebalance-network"), {**data, "step": "0.00000001"})

    row = WithdrawalNetwork.objects.get(network="LIGHTNING")
    assert (row.asset, row.fee, row.arrival_minutes) == ("BTC", D("0.00001"), 1)
    assert AuditEntry.objects.get(action="withdrawal network saved").details["before"] is None


def test_an_admin_deletes_a_band_and_the_planner_leaves_that_holding_alone(
    client, admin_user, rebalance_market
):
    client.force_login(admin_user)
    band = InventoryBand.objects.get(account=rebalance_market.mm_account, asset="BTC")

    client.post(reverse("rebalance-band-delete", args=[band.pk]))

    assert not InventoryBand.objects.filter(pk=band.pk).exists()
    assert AuditEntry.objects.get(action="band deleted").details["before"]["minimum"] == "1"
    PaperBalance.objects.filter(account=rebalance_market.mm_account, asset="BTC").update(
        free=D("0.1")
    )
    refresh_balances(rebalance_market.mm_account, ["BTC"])
    assert rebalancing.plan_transfers() == []
