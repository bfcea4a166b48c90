"""The change requests page (admins): roles, rebalance policies and venue keys waiting for a
second admin, with confirm and reject beside each, and the form to propose a role change.

The rules themselves are bots.desk.four_eyes; this page only shows and asks. Every POST works
without JavaScript (it redirects with a message) and with htmx (it swaps the request's row).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.desk import four_eyes
from bots.desk.roles import ADMIN, OPERATOR, role_required
from bots.models import ChangeRequest
from dashboard.forms import RefusesControlCharacters

RECENT = 30


class RoleChangeForm(RefusesControlCharacters, forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True),
                                  to_field_name="username")
    role = forms.ChoiceField(choices=[(OPERATOR, "operator"), (ADMIN, "admin")])
    action = forms.ChoiceField(choices=[("grant", "grant"), ("remove", "remove")])
    reason = forms.CharField(required=False, max_length=500)


def _rows(request, changes):
    return [(c, four_eyes.may_confirm(request.user, c)) for c in changes]


def changes_context(request, form=None) -> dict:
    pending = ChangeRequest.objects.filter(state=ChangeRequest.PENDING).select_related(
        "proposed_by", "target_user"
    )
    done = ChangeRequest.objects.exclude(state=ChangeRequest.PENDING).select_related(
        "proposed_by", "decided_by"
    )[:RECENT]
    return {
        "pending": _rows(request, pending),
        "done": done,
        "role_form": form or RoleChangeForm(),
        "here": "changes",
    }


@require_GET
@login_required
@role_required(ADMIN)
def changes(request):
    return render(request, "changes.html", changes_context(request))


@require_POST
@login_required
@role_required(ADMIN)
def propose_role(request):
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a login, a role, and grant or remove.")
        return render(request, "changes.html", changes_context(request, form), status=400)
    d = form.cleaned_data
    try:
        change = four_eyes.propose_role(
            request.user, d["user"], d["role"], d["action"] == "grant", d["reason"]
        )
    except four_eyes.ChangeRefused as exc:
        messages.error(request, str(exc))
        return redirect("changes")
    messages.success(request, f"Proposed: {change.summary}. Another admin must confirm it.")
    return redirect("changes")


def _decide(request, pk: int, act, done: str):
    get_object_or_404(ChangeRequest, pk=pk)
    try:
        act()
        note, ok = done, True
    except four_eyes.ChangeRefused as exc:
        note, ok = str(exc), False
    if request.htmx:
        change = ChangeRequest.objects.select_related("proposed_by", "decided_by").get(pk=pk)
        context = {
            "change": change,
            "why_not": four_eyes.may_confirm(request.user, change),
            "note": note,
            "ok": ok,
        }
        return render(request, "partials/change_row.html", context, status=200 if ok else 409)
    (messages.success if ok else messages.error)(request, note)
    return redirect("changes")


@require_POST
@login_required
@role_required(ADMIN)
def confirm(request, pk: int):
    return _decide(
        request, pk, lambda: four_eyes.confirm(request.user, pk), f"Change #{pk} applied."
    )


@require_POST
@login_required
@role_required(ADMIN)
def reject(request, pk: int):
    note = request.POST.get("note", "")
    return _decide(
        request, pk, lambda: four_eyes.reject(request.user, pk, note), f"Change #{pk} rejected."
    )


@require_POST
@login_required
@role_required(ADMIN)
def cancel(request, pk: int):
    return _decide(
        request, pk, lambda: four_eyes.cancel(request.user, pk), f"Change #{pk} cancelled."
    )
