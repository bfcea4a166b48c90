"""The market page's bot controls: pause, resume, kill and cancel-all for a market, and the
desk's kill switch. Operators only; each carries a reason into the audit log.

Views render the one-line outcome for htmx, or redirect back to the market with a message
without JavaScript. The commands themselves are bots.market_making.operator_commands'.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bots.desk.roles import OPERATOR, role_required
from bots.market_making import operator_commands
from bots.models import Market

MARKET_COMMANDS = {
    "pause": operator_commands.pause_market,
    "resume": operator_commands.resume_market,
    "kill": operator_commands.kill_market,
    "cancel-all": operator_commands.cancel_all,
}
DESK_COMMANDS = {
    "kill-all": operator_commands.kill_all,
    "resume-all": operator_commands.resume_all,
}


def _answer(request, ok: bool, note: str, back: str):
    if request.htmx:
        return render(
            request, "partials/trade_result.html", {"note": note, "ok": ok}, status=200 if ok else 422
        )
    (messages.success if ok else messages.error)(request, note)
    return redirect(back)


def _run(request, command, back: str, **target):
    try:
        outcome = command(reason=request.POST.get("reason", ""), user=request.user, **target)
    except operator_commands.CommandRefused as exc:
        return _answer(request, False, str(exc), back)
    return _answer(request, True, outcome.message, back)


@require_POST
@login_required
@role_required(OPERATOR)
def market_command(request, slug: str, command: str):
    if command not in MARKET_COMMANDS:
        raise Http404(f"no command {command!r}")
    market = get_object_or_404(
        Market.objects.select_related("mm_account__venue", "hedge_account__venue"), slug=slug
    )
    return _run(request, MARKET_COMMANDS[command], f"/markets/{slug}/", market=market)


@require_POST
@login_required
@role_required(OPERATOR)
def desk_command(request, command: str):
    if command not in DESK_COMMANDS:
        raise Http404(f"no command {command!r}")
    back = request.POST.get("next") or "/"
    if not back.startswith("/") or back.startswith("//"):
        back = "/"  # only ever back into the desk
    return _run(request, DESK_COMMANDS[command], back)
