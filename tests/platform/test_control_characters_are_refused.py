"""NUL and other control characters in what people type are refused with a message naming the
field, and nothing changes: from the market page, the rebalance panel, the market socket, the
shell, and every form of the desk. (On PostgreSQL a NUL used to answer 500, after cancel-all
had already cancelled the orders and before it wrote its audit entry.)"""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
from decimal import Decimal as D

import pytest
from asgiref.sync import sync_to_async
from django import forms
from django.core.management import CommandError, call_command
from django.urls import reverse

import dashboard
from bots.market_making import operator_commands
from bots.models import AuditEntry, KillSwitch, Market, TransferApproval, TransferProposal
from bots.platform.text import TextRefused, check_text, problem
from bots.treasury import rebalancing
from dashboard.forms import RefusesControlCharacters
from dashboard.hedging.hedges_views import ManualHedgeForm, WriteOffForm
from tests.support.quoting import market_row, resting
from tests.support.sockets import ask, socket_for
from tests.support.treasury import drain

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
P = TransferProposal
NUL, ESC = "stale\0quotes", "stale\x1bquotes"


# --- the rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "multiline", "said"),
    [
        ("a\0b", True, "contains a NUL character (character 2)"),
        ("\x1b[31m", True, "contains the control character U+001B (character 1)"),
        ("del\x7f", False, "contains the control character U+007F (character 4)"),
        ("two\nlines", False, "contains a line break (character 4)"),
        ("a\tb", False, "contains a tab (character 2)"),
        ("two\r\nlines\tand a tab", True, ""),
        ("déjà vu, 50 € — ok ✓ \u0085", False, ""),
    ],
)
def test_the_rule(text, multiline, said):
    assert problem(text, multiline=multiline) == said


def test_check_text_names_the_field():
    assert check_text("fine", "reason") == "fine"
    with pytest.raises(TextRefused, match=r"^The reason contains a NUL character \(character 2\), which is not accepted"):
        check_text("a\0b", "reason", multiline=True)


# --- the market page's commands, its socket and the shell ---------------------------------------

MARKET = [("pause", "market"), ("cancel-all", "market"), ("kill", "market"), ("kill-all", "desk")]


def desk_state(market) -> tuple:
    row = market_row(market)
    return row.state, len(resting(market)), AuditEntry.objects.count(), KillSwitch.is_engaged()


def market_url(market, command: str, where: str) -> str:
    if where == "desk":
        return reverse("desk-command", args=[command])
    return reverse("market-command", args=[market.slug, command])


@pytest.mark.parametrize(("command", "where"), MARKET)
@pytest.mark.parametrize(
    ("reason", "status", "said"),
    [
        # A NUL never reaches a view (ballast.nul_guard); the command refuses the others.
        (NUL, 400, "The field “reason” contains a NUL character"),
        (ESC, 422, "The reason contains the control character U+001B (character 6)"),
    ],
)
def test_a_control_character_in_a_command_from_the_page_is_refused_before_anything_happens(
    command, where, reason, status, said, client, operator, running_market
):
    client.force_login(operator)
    before = desk_state(running_market)

    response = client.post(market_url(running_market, command, where), {"reason": reason}, **HTMX)

    assert response.status_code == status and said in response.content.decode()
    assert desk_state(running_market) == before == (Market.RUNNING, 10, 0, False)


@pytest.mark.parametrize(
    "command",
    [operator_commands.pause_market, operator_commands.cancel_all, operator_commands.kill_market],
)
@pytest.mark.parametrize("reason", [NUL, ESC])
def test_the_market_commands_refuse_control_characters_whoever_calls_them(
    command, reason, operator, running_market
):
    before = desk_state(running_market)

    with pytest.raises(operator_commands.CommandRefused, match="^The reason contains"):
        command(market_row(running_market), reason=reason, user=operator)

    assert desk_state(running_market) == before


def test_a_multi_line_reason_is_kept_as_typed(operator, running_market):
    operator_commands.pause_market(market_row(running_market), reason="line one\n\tline two", user=operator)

    assert AuditEntry.objects.get().reason == "line one\n\tline two"


@pytest.mark.django_db(transaction=True)
async def test_a_nul_over_the_socket_is_refused_and_the_socket_carries_on(running_market, operator):
    socket = await socket_for(operator, running_market)
    before = await sync_to_async(desk_state)(running_market)

    for command in ("pause", "cancel-all", "kill", "kill-all"):
        reply = await ask(socket, json.dumps({"command": command, "reason": NUL}))
        assert reply["error"].startswith("The reason contains a NUL character (character 6)")

    assert await sync_to_async(desk_state)(running_market) == before
    assert (await ask(socket, '{"command": "pause", "reason": "fine"}'))["ok"].startswith("BTC/USDT paused")
    await socket.disconnect()


def test_the_shell_refuses_a_nul_in_the_reason(running_market):
    before = desk_state(running_market)

    with pytest.raises(CommandError, match="The reason contains a NUL character"):
        call_command("desk", "cancel-all", "btc-usdt", "--reason", NUL, stdout=io.StringIO())
    with pytest.raises(CommandError, match="The reason contains a NUL character"):
        call_command("desk", "kill", "--all", "--reason", NUL, stdout=io.StringIO())

    assert desk_state(running_market) == before


# --- transfers: approve, reject, confirm, fail --------------------------------------------------


@pytest.fixture
def proposal(rebalance_market):
    drain(rebalance_market, D("1.4"))
    [p] = rebalancing.plan_transfers()
    return p


def transfer_state(p) -> tuple:
    p.refresh_from_db()
    return p.state, TransferApproval.objects.count(), AuditEntry.objects.count()


def to_state(p, state: str, operator) -> None:
    if state in (P.APPROVED, P.SENT):
        rebalancing.approve(p.pk, operator)
    if state == P.SENT:
        rebalancing.record_sent(p.pk, operator, p.amount, "0.0002", "0xabc")


TRANSFER = [
    ("approve", rebalancing.approve, P.PROPOSED),
    ("reject", rebalancing.reject, P.PROPOSED),
    ("confirm", rebalancing.confirm_arrival, P.SENT),
    ("fail", rebalancing.mark_failed, P.APPROVED),
]


@pytest.mark.parametrize(("action", "command", "state"), TRANSFER)
def test_a_nul_in_a_transfer_comment_from_the_panel_is_refused(
    action, command, state, client, operator, proposal
):
    to_state(proposal, state, operator)
    client.force_login(operator)
    before = transfer_state(proposal)

    response = client.post(
        reverse(f"transfer-{action}", args=[proposal.pk]), {"comment": "seen\0it"}, **HTMX
    )

    assert response.status_code == 400
    assert "The field “comment” contains a NUL character" in response.content.decode()
    assert transfer_state(proposal) == before and before[0] == state


@pytest.mark.parametrize(("action", "command", "state"), TRANSFER)
def test_a_control_character_in_a_transfer_comment_is_refused_whoever_calls(
    action, command, state, client, operator, proposal
):
    to_state(proposal, state, operator)
    before = transfer_state(proposal)

    for comment in ("seen\0it", "seen\x07it"):
        with pytest.raises(rebalancing.TransferError, match=r"^The comment contains .* \(character 5\)"):
            command(proposal.pk, operator, comment)
    client.force_login(operator)
    response = client.post(
        reverse(f"transfer-{action}", args=[proposal.pk]), {"comment": "seen\x07it"}, **HTMX
    )

    assert response.status_code == 400
    assert "The comment contains the control character U+0007" in response.content.decode()
    assert transfer_state(proposal) == before


def test_a_transaction_id_with_a_control_character_is_refused(client, operator, proposal):
    to_state(proposal, P.APPROVED, operator)
    client.force_login(operator)

    response = client.post(
        reverse("transfer-sent", args=[proposal.pk]),
        {"amount": str(proposal.amount), "fee": "0.0002", "txid": "0xab\x1bc"},
        **HTMX,
    )

    assert response.status_code == 400
    assert "Transaction id or hash: It contains the control character U+001B" in response.content.decode()
    assert transfer_state(proposal)[0] == P.APPROVED


# --- every form ---------------------------------------------------------------------------------


def all_desk_forms() -> list[type]:
    for module in pkgutil.walk_packages(dashboard.__path__, "dashboard."):
        if ".management." not in module.name and not module.name.endswith(("asgi", "celery")):
            importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return sorted(
        {c for c in subclasses(forms.BaseForm) if c.__module__.startswith("dashboard.")},
        key=lambda c: c.__qualname__,
    )


def test_every_form_of_the_desk_refuses_control_characters():
    desk_forms = all_desk_forms()

    assert len(desk_forms) >= 12
    assert [c.__qualname__ for c in desk_forms if not issubclass(c, RefusesControlCharacters)] == []


def test_a_form_names_the_field_and_keeps_line_breaks_in_reasons():
    form = ManualHedgeForm({"venue": "OTC\x1bdesk", "price": "1", "amount": "1", "reference": "x\0"})

    assert not form.is_valid()
    assert form.errors["venue"] == [
        "It contains the control character U+001B (character 4), which is not accepted: remove it and send again."
    ]
    assert "reference" in form.errors
    assert WriteOffForm({"reason": "sold by hand\nat the OTC desk"}).is_valid()


def test_a_nul_in_a_query_string_is_refused_too(client, operator):
    client.force_login(operator)

    response = client.get("/audit/", {"q": "x\0"})

    assert response.status_code == 400
    assert "The field “q” contains a NUL character" in response.content.decode()
