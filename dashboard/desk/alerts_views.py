"""The alerts page: the short list of what needs someone, each with its action beside it, and
acknowledging and resolving them (operators)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.desk.alerts import AlertStateError, acknowledge, resolve
from bots.desk.health import check_workers
from bots.desk.roles import OPERATOR, has_role, role_required
from bots.models import Alert, Delivery

RECENTLY_RESOLVED = 20


def _alerts():
    return Alert.objects.select_related("market", "acknowledged_by", "resolved_by").prefetch_related(
        Prefetch("deliveries", queryset=Delivery.objects.select_related("channel"))
    )


def alerts_context(request) -> dict:
    waiting = (
        _alerts()
        .exclude(state=Alert.RESOLVED)
        # Open ones first: an acknowledged alert already has someone on it.
        .annotate(rank=Case(When(state=Alert.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("rank", "-raised_at", "-id")
    )
    return {
        "waiting": waiting,
        "resolved": _alerts().filter(state=Alert.RESOLVED).order_by("-resolved_at", "-id")[:RECENTLY_RESOLVED],
        "can_act": has_role(request.user, OPERATOR),
    }


@require_GET
@login_required
def alerts(request):
    check_workers()  # the one alert no worker can raise: also looked at whenever this is opened
    context = alerts_context(request)
    if request.htmx:
        return render(request, "partials/alert_list.html", context)
    return render(request, "alerts.html", context)


def _act(request, pk: int, action, done: str):
    get_object_or_404(Alert, pk=pk)
    try:
        alert = action(pk, request.user)
        note, ok = done, True
    except AlertStateError as exc:
        alert, note, ok = Alert.objects.get(pk=pk), str(exc), False
    if request.htmx:
        context = {"alert": alert, "can_act": True, "note": note, "ok": ok}
        return render(request, "partials/alert_row.html", context, status=200 if ok else 409)
    (messages.success if ok else messages.error)(request, note)
    return redirect("alerts")


@require_POST
@login_required
@role_required(OPERATOR)
def acknowledge_alert(request, pk: int):
    return _act(request, pk, acknowledge, "Acknowledged: the alert shows you are on it.")


@require_POST
@login_required
@role_required(OPERATOR)
def resolve_alert(request, pk: int):
    return _act(request, pk, resolve, "Resolved. Should the cause come back, a new alert is raised.")
