"""Pause, resume, kill and cancel-all, per market and for the desk: from the page, its socket and
`manage.py desk`, each logged with who and why, and refused with a message when it cannot be."""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command
from django.db import connections
from django.urls import reverse

from bots.market_making import operator_commands
from bots.models import AuditEntry, KillSwitch, Market, Venue
from bots.platform.locks import market_lock
from bots.venues import ccxt_errors as ccxt
from bots.venues.paper import PaperVenue
from dashboard.live.publisher import market_snapshot
from tests.support.quoting import break_venue, market_row, resting, tick
from tests.support.sockets import ask, socket_for

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def command_url(market, command):
    return reverse("market-command", args=[market.slug, command])


def post(client, url, **data):
    return client.post(url, data, **HTMX)


def test_an_operator_pauses_a_market_with_a_reason(client, operator, running_market):
    client.force_login(operator)

    response = post(client, command_url(running_market, "pause"), reason="exchange maintenance")

    assert response.status_code == 200
    assert "BTC/USDT paused; 10 order(s) cancelled." in response.content.decode()
    row = market_row(running_market)
    assert (row.state, row.state_reason) == (Market.PAUSED, "paused by olivia: exchange maintenance")
    assert resting(running_market) == []
    entry = AuditEntry.objects.get(action="pause")
    assert (entry.user, entry.reason, entry.market, entry.details) == (
        operator, "exchange maintenance", running_market, {"canceled": 10}
    )
    assert tick(running_market) == Market.PAUSED and resting(running_market) == []


def test_a_command_without_a_reason_is_refused_and_changes_nothing(client, operator, running_market):
    client.force_login(operator)

    response = post(client, command_url(running_market, "kill"), reason="   ")

    assert response.status_code == 422
    assert "Say why" in response.content.decode()
    assert market_row(running_market).state == Market.RUNNING
    assert len(resting(running_market)) == 10 and not AuditEntry.objects.exists()


def test_a_viewer_cannot_command_the_bot(client, viewer, running_market):
    client.force_login(viewer)

    assert post(client, command_url(running_market, "pause"), reason="x").status_code == 403
    assert post(client, reverse("desk-command", args=["kill-all"]), reason="x").status_code == 403
    assert market_row(running_market).state == Market.RUNNING and not KillSwitch.is_engaged()


def test_an_unknown_command_is_not_found(client, operator, running_market):
    client.force_login(operator)

    assert post(client, command_url(running_market, "explode"), reason="x").status_code == 404
    assert market_row(running_market).state == Market.RUNNING


def test_kill_stops_the_market_until_an_explicit_resume(client, operator, running_market):
    client.force_login(operator)
    post(client, command_url(running_market, "kill"), reason="runaway quotes")

    assert tick(running_market) == Market.KILLED
    assert resting(running_market) == []
    # A pause does not soften a kill; it still cancels, as every stop does.
    paused = post(client, command_url(running_market, "pause"), reason="and pause")
    assert paused.status_code == 200 and "is killed and stays killed" in paused.content.decode()
    assert market_row(running_market).state == Market.KILLED

    response = post(client, command_url(running_market, "resume"), reason="fixed")

    assert "quotes again at its next tick" in response.content.decode()
    assert tick(running_market) == Market.RUNNING and len(resting(running_market)) == 10
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["kill", "pause", "resume"]


def test_resume_of_a_running_market_is_refused(client, operator, running_market):
    client.force_login(operator)

    response = post(client, command_url(running_market, "resume"), reason="why not")

    assert response.status_code == 422
    assert "is running, not paused or killed" in response.content.decode()


def test_cancel_all_leaves_the_market_running_to_quote_again(client, operator, running_market):
    client.force_login(operator)

    response = post(client, command_url(running_market, "cancel-all"), reason="stale quotes")

    assert "10 order(s) cancelled. The bot quotes again at its next tick." in response.content.decode()
    assert resting(running_market) == [] and market_row(running_market).state == Market.RUNNING
    tick(running_market)
    assert len(resting(running_market)) == 10


def test_commands_work_without_javascript(client, operator, running_market):
    client.force_login(operator)

    response = client.post(command_url(running_market, "pause"), {"reason": "no js"})

    assert response.status_code == 302 and response["Location"] == f"/markets/{running_market.slug}/"
    assert "BTC/USDT paused" in client.get(response["Location"]).content.decode()


def test_the_desk_kill_switch_stops_every_market_until_the_desk_resumes(
    client, operator, running_market
):
    other = Market.objects.create(
        slug="btc-usdt-2", symbol="BTC/USDT", mm_account=running_market.mm_account,
        hedge_account=running_market.hedge_account, state=Market.PAUSED, state_reason="paused before",
    )
    client.force_login(operator)

    response = post(client, reverse("desk-command", args=["kill-all"]), reason="venue hacked")

    assert "Desk killed: every market stopped; 10 order(s) cancelled." in response.content.decode()
    assert KillSwitch.current().engaged and KillSwitch.current().actor == "olivia"
    assert market_row(running_market).state == Market.KILLED
    assert tick(running_market) == Market.KILLED and resting(running_market) == []
    refused = post(client, command_url(running_market, "resume"), reason="mine only")
    assert "resume the desk first" in refused.content.decode()

    post(client, reverse("desk-command", args=["resume-all"]), reason="all clear")

    assert market_row(running_market).state == Market.RUNNING
    # A market paused on its own before the desk kill stays paused: the desk did not stop it.
    other.refresh_from_db()
    assert (other.state, other.state_reason) == (Market.PAUSED, "paused before")
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["kill_all", "resume_all"]


def test_a_pause_that_cannot_reach_the_venue_says_so_and_the_tick_finishes_the_job(operator, running_market):
    Venue.objects.filter(name="own").update(fault="ExchangeNotAvailable")

    outcome = operator_commands.pause_market(market_row(running_market), reason="drill", user=operator)

    assert outcome.message.startswith("BTC/USDT paused; 0 order(s) cancelled. BTC/USDT: its open orders could not be read (ExchangeNotAvailable")
    assert "the market's ticks cancel them once the venue answers" in outcome.message
    assert market_row(running_market).state == Market.PAUSED
    Venue.objects.filter(name="own").update(fault="")
    assert len(resting(running_market)) == 10

    assert tick(running_market) == Market.PAUSED  # a stopped market's tick cancels leftovers
    assert resting(running_market) == []


def test_a_stop_cancels_every_order_the_venue_does_not_refuse_and_names_the_rest(
    monkeypatch, operator, running_market
):
    break_venue(monkeypatch, running_market.mm_account, "cancel_order", ccxt.PermissionDenied, times=2)

    outcome = operator_commands.kill_market(market_row(running_market), reason="drill", user=operator)

    assert outcome.message.startswith("BTC/USDT killed; 8 order(s) cancelled. BTC/USDT: 2 order(s) could not be cancelled (PermissionDenied")
    assert len(resting(running_market)) == 2 and market_row(running_market).state == Market.KILLED
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.details["canceled"], entry.details["left"]) == ("kill", 8, 2)


def stray_order(market) -> None:
    """An order left on the book after a stop (one a failed cancel or a racing tick left)."""
    PaperVenue(market.mm_account).create_order(
        market.symbol, "limit", "buy", Decimal("0.01"), Decimal("60000"), {"postOnly": True}
    )


@pytest.mark.parametrize(("command", "said"), [
    (operator_commands.kill_market, "BTC/USDT was already killed; 1 order(s) cancelled."),
    (operator_commands.pause_market, "BTC/USDT is killed and stays killed"),
])
def test_a_stop_of_a_killed_market_cancels_again_and_says_so(command, said, operator, running_market):
    operator_commands.kill_market(market_row(running_market), reason="first", user=operator)
    stray_order(running_market)

    outcome = command(market_row(running_market), reason="again", user=operator)

    assert outcome.message.startswith(said) and outcome.canceled == 1
    assert resting(running_market) == []
    row = market_row(running_market)
    assert (row.state, row.state_reason) == (Market.KILLED, "killed by olivia: first")
    assert AuditEntry.objects.order_by("id").last().details == {"canceled": 1, "already": "killed"}


def test_pausing_a_paused_market_cancels_again(operator, running_market):
    operator_commands.pause_market(market_row(running_market), reason="first", user=operator)
    stray_order(running_market)

    outcome = operator_commands.pause_market(market_row(running_market), reason="again", user=operator)

    assert outcome.message == "BTC/USDT was already paused; 1 order(s) cancelled."
    assert resting(running_market) == [] and market_row(running_market).state == Market.PAUSED


def test_the_desk_kill_switch_engaged_again_cancels_again(client, operator, running_market):
    client.force_login(operator)
    post(client, reverse("desk-command", args=["kill-all"]), reason="venue hacked")
    stray_order(running_market)

    response = post(client, reverse("desk-command", args=["kill-all"]), reason="make sure")

    assert response.status_code == 200
    assert (
        "The desk&#x27;s kill switch was already engaged: every market stays stopped; "
        "1 order(s) cancelled." in response.content.decode()
    )
    assert resting(running_market) == [] and KillSwitch.current().reason == "venue hacked"
    assert AuditEntry.objects.order_by("id").last().details == {"canceled": 1, "already": "engaged"}


@pytest.mark.django_db(transaction=True)
def test_a_pause_waits_out_a_running_tick_so_nothing_it_placed_survives(operator, running_market):
    holding, placed = threading.Event(), threading.Event()

    def a_tick_in_flight():
        try:
            with market_lock("tick", running_market.pk) as held:
                assert held
                holding.set()
                placed.wait(0.3)  # the pause is already waiting for the lock by now
                PaperVenue(running_market.mm_account).create_order(
                    running_market.symbol, "limit", "buy", Decimal("0.01"), Decimal("60000"),
                    {"postOnly": True},
                )
        finally:
            connections.close_all()

    thread = threading.Thread(target=a_tick_in_flight)
    thread.start()
    holding.wait(5)

    outcome = operator_commands.pause_market(running_market, reason="now", user=operator)
    thread.join(10)

    assert outcome.canceled == 11
    assert resting(running_market) == []


# --- the page, its socket, the shell --------------------------------------------------------


def test_the_page_shows_controls_to_operators_and_the_log_to_everyone(client, operator, viewer, running_market):
    operator_commands.pause_market(running_market, reason="lunch", user=operator)
    client.force_login(operator)
    assert "Kill every market" in client.get(f"/markets/{running_market.slug}/").content.decode()

    client.force_login(viewer)
    page = client.get(f"/markets/{running_market.slug}/").content.decode()

    assert "Kill every market" not in page and "Pauses, resumes and kills" in page
    [action] = market_snapshot(market_row(running_market))["actions"]
    assert (action["actor"], action["action"], action["reason"]) == ("olivia", "pause", "lunch")


@pytest.mark.django_db(transaction=True)
async def test_an_operator_pauses_over_the_socket_and_bad_messages_change_nothing(running_market, operator):
    socket = await socket_for(operator, running_market)

    assert await ask(socket, "pause now") == {"error": 'That is not JSON. Send JSON like {"command": "pause", "reason": "why"}.'}
    assert await ask(socket, '["pause"]') == {"error": 'Send JSON like {"command": "pause", "reason": "why"}.'}
    assert (await ask(socket, '{"command": "pause"}'))["error"].startswith("Say why")
    assert (await ask(socket, '{"command": "pause", "reason": 5}')) == {"error": "The reason must be text."}
    assert (await sync_to_async(market_row)(running_market)).state == Market.RUNNING

    reply = await ask(socket, '{"command": "pause", "reason": "from the socket"}')

    assert reply == {"ok": "BTC/USDT paused; 10 order(s) cancelled."}
    row = await sync_to_async(market_row)(running_market)
    assert row.state_reason == "paused by olivia: from the socket"
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_viewer_cannot_command_over_the_socket(running_market, viewer):
    socket = await socket_for(viewer, running_market)

    assert await ask(socket, '{"command": "kill-all", "reason": "x"}') == {
        "error": "This needs the operator role."
    }
    assert not await sync_to_async(KillSwitch.is_engaged)()
    await socket.disconnect()


def test_the_shell_command_pauses_resumes_and_reports(running_market):
    out = io.StringIO()

    call_command("desk", "pause", "btc-usdt", "--reason", "from the shell", stdout=out)
    call_command("desk", "status", stdout=out)

    assert "BTC/USDT paused; 10 order(s) cancelled." in out.getvalue()
    assert "btc-usdt         paused" in out.getvalue()
    assert AuditEntry.objects.get().actor.endswith("(manage.py desk)")
    with pytest.raises(CommandError, match="Say why"):
        call_command("desk", "resume", "btc-usdt")
    with pytest.raises(CommandError, match="no market 'nope'"):
        call_command("desk", "pause", "nope", "--reason", "x")
    with pytest.raises(CommandError, match="--all goes with kill or resume"):
        call_command("desk", "pause", "--all", "--reason", "x")
    call_command("desk", "kill", "--all", "--reason", "drill", stdout=out)
    assert KillSwitch.is_engaged()
