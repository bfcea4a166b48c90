"""Withdrawal terms the exchanges report, on the rebalance settings page: what differs from the
planner's networks, for an admin to accept or dismiss, and a button to read the exchanges now.

Each action renders the section again for htmx (swapped whole, with the outcome in it), or
redirects to the settings page with a message without JavaScript. The commands themselves are
bots.treasury.network_facts.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from bots.desk.audit import record
from bots.desk.roles import ADMIN, has_role, role_required
from bots.models import NetworkClosure, NetworkTermsChange, NetworkTermsReading
from bots.treasury import network_facts
from bots.treasury.tasks import refresh_network_terms
from dashboard.live.rebalance_push import publish_rebalance

C = NetworkTermsChange
ANCHOR = "#network-changes"


def terms_context(request) -> dict:
    pending = list(
        C.objects.filter(state=C.PENDING).select_related("venue").order_by("venue__name", "asset", "network")
    )
    # Networks closing first: until accepted the planner still sends over them.
    pending.sort(key=lambda c: not c.closes)
    for change in pending:
        change.summary = network_facts.describe_change(change)
    return {
        "is_admin": has_role(request.user, ADMIN),
        "terms_changes": pending,
        "terms_closing": sum(1 for c in pending if c.closes),
        "terms_readings": NetworkTermsReading.objects.select_related("venue").order_by("venue__name"),
        # Closed at the last reading: they block transfers now (bots/treasury/network_closures.py).
        "terms_closures": NetworkClosure.objects.select_related("venue"),
    }


def _answer(request, note: str, ok: bool):
    if request.htmx:
        context = terms_context(request) | {"terms_note": note, "terms_ok": ok}
        return render(request, "partials/network_changes.html", context, status=200 if ok else 409)
    (messages.success if ok else messages.error)(request, note)
    return redirect(reverse("rebalance-settings") + ANCHOR)


def _decide(request, command, *args):
    try:
        note, ok = command(*args), True
    except network_facts.NetworkTermsError as exc:
        note, ok = str(exc), False
    if ok:
        transaction.on_commit(lambda: publish_rebalance(None))
    return _answer(request, note, ok)


@require_POST
@login_required
@role_required(ADMIN)
def accept(request, pk: int):
    return _decide(request, network_facts.accept, pk, request.user)


@require_POST
@login_required
@role_required(ADMIN)
def dismiss(request, pk: int):
    return _decide(request, network_facts.dismiss, pk, request.user, request.POST.get("note", ""))


@require_POST
@login_required
@role_required(ADMIN)
def read_now(request):
    lines = refresh_network_terms()
    record("network terms read", user=request.user, reason="read by hand", venues=lines)
    if not lines:
        return _answer(request, "Another reading is under way, or no venue has networks to read.", False)
    return _answer(request, "Read: " + "; ".join(lines) + ".", True)
