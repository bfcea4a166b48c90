"""The failed-hedges panel of a market: each failed hedge with its fill, its error, its attempts
and orders, and what an operator can do about it: retry, record a manual hedge done elsewhere,
or write it off with a reason. The pending hedge position and the reconciler's flags beside it.

Everyone logged in sees it; the actions need the operator role and go through
bots.market_making.operator_commands, which logs each one. With htmx an action re-renders the panel with its
outcome; without JavaScript it redirects back with a message.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.desk.roles import OPERATOR, has_role, role_required
from bots.hedging.report import day_summary
from bots.market_making import operator_commands
from bots.models import AuditEntry, Hedge, HedgeMismatch, HedgeOrder, Market
from dashboard.forms import RefusesControlCharacters, amount_field


class ManualHedgeForm(RefusesControlCharacters, forms.Form):
    venue = forms.CharField(max_length=100, help_text="Where it was done, e.g. OTC desk X")
    price = amount_field()
    amount = amount_field()
    reference = forms.CharField(max_length=200, help_text="Its order or trade id there")


class WriteOffForm(RefusesControlCharacters, forms.Form):
    reason = forms.CharField(max_length=500)


def _market(slug: str) -> Market:
    return get_object_or_404(Market.objects.select_related("hedge_account__venue"), slug=slug)


def _rows(queryset) -> list[dict]:
    """Each hedge with its fill, orders and the fills it carries, for the template."""
    hedges = list(queryset.select_related("fill").order_by("pk"))
    ids = [h.pk for h in hedges]
    orders: dict[int, list] = {}
    for order in HedgeOrder.objects.filter(hedge_id__in=ids).select_related("account__venue").order_by("pk"):
        orders.setdefault(order.hedge_id, []).append(order)
    carried: dict[int, list] = {}
    for member in Hedge.objects.filter(carrier_id__in=ids, state=Hedge.CARRIED).select_related("fill"):
        carried.setdefault(member.carrier_id, []).append(member)
    rows = []
    for hedge in hedges:
        group = carried.get(hedge.pk, [])
        rows.append({
            "hedge": hedge,
            "orders": orders.get(hedge.pk, []),
            "carried": group,
            "left": hedge.remaining + sum((m.remaining for m in group), Decimal(0)),
        })
    return rows


def panel_context(request, market: Market, note: str = "", ok: bool = True) -> dict:
    accounts = market.hedge_accounts()
    return {
        "market": market,
        "markets": Market.objects.order_by("symbol"),
        "failed": _rows(Hedge.objects.filter(fill__market=market, state=Hedge.FAILED)),
        "waiting": _rows(Hedge.objects.filter(fill__market=market, state=Hedge.WAITING)),
        "mismatches": HedgeMismatch.objects.filter(account__in=accounts, resolved_at__isnull=True)
        .select_related("account__venue")
        .order_by("-last_seen"),
        "today": day_summary(market),
        "actions": [
            {"entry": entry, "label": entry.action.removeprefix("hedge_").replace("_", " ")}
            for entry in AuditEntry.objects.filter(market=market, action__startswith="hedge_")[:15]
        ],
        "can_operate": has_role(request.user, OPERATOR),
        "note": note,
        "ok": ok,
    }


@require_GET
@login_required
def hedges_page(request, slug: str):
    market = _market(slug)
    template = "partials/hedges_panel.html" if request.htmx else "hedges.html"
    return render(request, template, panel_context(request, market))


def _answer(request, market: Market, ok: bool, note: str):
    if request.htmx:
        return render(
            request, "partials/hedges_panel.html", panel_context(request, market, note, ok),
            status=200 if ok else 422,
        )
    (messages.success if ok else messages.error)(request, note)
    return redirect("hedges", slug=market.slug)


def _hedge_of(market: Market, hedge_id: int) -> int:
    # A hedge of another market is not this page's: 404 rather than act on it.
    get_object_or_404(Hedge, pk=hedge_id, fill__market=market)
    return hedge_id


def _run(request, market: Market, command, **arguments):
    try:
        outcome = command(user=request.user, **arguments)
    except operator_commands.CommandRefused as exc:
        return _answer(request, market, False, str(exc))
    return _answer(request, market, True, outcome.message)


def _form_errors(form: forms.Form) -> str:
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


@require_POST
@login_required
@role_required(OPERATOR)
def retry(request, slug: str, hedge_id: int):
    market = _market(slug)
    return _run(request, market, operator_commands.retry_hedge, hedge_id=_hedge_of(market, hedge_id))


@require_POST
@login_required
@role_required(OPERATOR)
def manual(request, slug: str, hedge_id: int):
    market = _market(slug)
    hedge_id = _hedge_of(market, hedge_id)
    form = ManualHedgeForm(request.POST)
    if not form.is_valid():
        return _answer(request, market, False, _form_errors(form))
    return _run(request, market, operator_commands.record_manual_hedge, hedge_id=hedge_id, **form.cleaned_data)


@require_POST
@login_required
@role_required(OPERATOR)
def write_off(request, slug: str, hedge_id: int):
    market = _market(slug)
    hedge_id = _hedge_of(market, hedge_id)
    form = WriteOffForm(request.POST)
    if not form.is_valid():
        return _answer(request, market, False, _form_errors(form))
    return _run(request, market, operator_commands.write_off_hedge, hedge_id=hedge_id, **form.cleaned_data)
