"""A market's price-action interventions page: the open intervention with its reason, cost,
effect, approvals and progress, the buttons the viewer may use, the history, the form to propose
one by hand, and the detectors' settings with their versions.

Everyone logged in sees it; proposing, approving, rejecting, pausing, resuming and cancelling
need the operator role, the settings the admin role. Every action goes through
bots.market_making.operator_commands. With htmx an action re-renders the panel with its outcome;
without JavaScript it redirects back with a message. The panel follows the market's live push
(static/js/interventions.js).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.desk.roles import ADMIN, OPERATOR, has_role, role_required
from bots.engine.interventions.settings import GROUPS, PARAMS, WHERE
from bots.interventions import workflow
from bots.market_making import operator_commands as commands
from bots.models import AuditEntry, Intervention, InterventionSettingsVersion, Market
from dashboard.forms import RefusesControlCharacters, errors_text, param_bounds_text, param_field

I = Intervention  # noqa: E741
HISTORY = 20


class ProposeForm(RefusesControlCharacters, forms.Form):
    kind = forms.ChoiceField(choices=I.KIND_CHOICES)
    where = forms.ChoiceField(choices=[(w, w) for w in WHERE])
    amount = forms.DecimalField(
        required=False, min_value=Decimal("0.00000001"), max_digits=38, decimal_places=18,
        help_text="Base; empty: the settings' size (or back to the band's target)",
    )
    minutes = forms.IntegerField(min_value=1, max_value=1440)
    reason = forms.CharField(required=False, max_length=2000)


class DecisionForm(RefusesControlCharacters, forms.Form):
    comment = forms.CharField(required=False, max_length=2000)
    code = forms.CharField(required=False, max_length=20)


class SettingsForm(RefusesControlCharacters, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=2000, label="Why (kept with this version)")

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for param in PARAMS:
            self.fields[param.name] = param_field(param)
            self.fields[param.name].disabled = read_only
        self.fields["reason"].disabled = read_only

    def groups(self) -> list[tuple[str, list]]:
        return [
            (group, [(self[p.name], param_bounds_text(p), p.unit) for p in PARAMS if p.group == group])
            for group in GROUPS
        ]


def _market(slug: str) -> Market:
    return get_object_or_404(
        Market.objects.select_related("mm_account__venue", "hedge_account__venue"), slug=slug
    )


def _settings_form(request, market: Market) -> SettingsForm:
    row = workflow.current_settings(market)
    values = {k: f"{v.normalize():f}" if isinstance(v, Decimal) else v for k, v in row.values().items()}
    return SettingsForm(initial={**values, "version": row.version},
                        read_only=not has_role(request.user, ADMIN))


def pnl(iv: Intervention, mark: Decimal | None) -> Decimal | None:
    """What the intervention made at the mark, fees included (quote)."""
    if mark is None or not iv.filled:
        return None
    value = iv.filled * mark
    made = value - iv.cost if iv.kind == I.BUYBACK else iv.cost - value
    return made - iv.fee_quote


def _row(iv: Intervention, mark) -> dict:
    return {
        "iv": iv,
        "average": iv.cost / iv.filled if iv.filled else None,
        "percent": int(iv.filled / iv.amount * 100) if iv.amount else 0,
        "pnl": pnl(iv, mark),
        "approvals": list(iv.approvals.select_related("user")),
    }


def panel_context(request, market: Market, note: str = "", ok: bool = True) -> dict:
    mark = market.reference_price
    history = list(I.objects.filter(market=market).order_by("-pk")[:HISTORY])
    current = next((iv for iv in history if iv.state in I.OPEN), None)
    return {
        "market": market,
        "current": _row(current, mark) if current else None,
        "history": [_row(iv, mark) for iv in history if iv is not current],
        "can_operate": has_role(request.user, OPERATOR),
        "mine": current is not None and current.proposed_by_id == request.user.pk,
        "is_admin": has_role(request.user, ADMIN),
        "actions": AuditEntry.objects.filter(market=market, action__startswith="intervention ")[:15],
        "note": note,
        "ok": ok,
    }


def _page(request, market: Market, note: str = "", ok: bool = True, settings_form=None,
          status: int = 200):
    context = panel_context(request, market, note, ok)
    config = workflow.current_settings(market).config()
    context.update({
        "markets": Market.objects.filter(kind=Market.BOOK).order_by("symbol"),
        "propose_form": ProposeForm(initial={"where": config.where, "minutes": config.duration_minutes}),
        "settings_form": settings_form or _settings_form(request, market),
        "versions": InterventionSettingsVersion.objects.filter(market=market)
        .select_related("user")[:HISTORY],
    })
    return render(request, "interventions.html", context, status=status)


@require_GET
@login_required
def interventions_page(request, slug: str):
    market = _market(slug)
    if request.htmx:
        return render(request, "partials/interventions_panel.html", panel_context(request, market))
    return _page(request, market)


def _answer(request, market: Market, ok: bool, note: str):
    if request.htmx:
        return render(
            request, "partials/interventions_panel.html", panel_context(request, market, note, ok),
            status=200 if ok else 422,
        )
    (messages.success if ok else messages.error)(request, note)
    return redirect("interventions", slug=market.slug)


def _of(market: Market, pk: int) -> int:
    # Another market's intervention is not this page's: 404 rather than act on it.
    get_object_or_404(I, pk=pk, market=market)
    return pk


def _run(request, market: Market, command, *args, **kwargs):
    try:
        done = command(*args, **kwargs)
    except commands.InterventionError as exc:
        return _answer(request, market, False, str(exc))
    return _answer(request, market, True, done.message)


@require_POST
@login_required
@role_required(OPERATOR)
def propose(request, slug: str):
    market = _market(slug)
    form = ProposeForm(request.POST)
    if not form.is_valid():
        return _answer(request, market, False, errors_text(form))
    data = form.cleaned_data
    return _run(request, market, commands.propose_intervention, market, request.user,
                kind=data["kind"], where=data["where"], amount=data["amount"],
                minutes=data["minutes"], reason=data["reason"])


def _decision(request) -> DecisionForm:
    form = DecisionForm(request.POST)
    form.is_valid()
    return form


def _decide(request, slug: str, pk: int, act):
    """Approve, reject, cancel, pause and resume read the same form and answer alike; `act`
    takes the intervention's id and the form's data and runs the operator command."""
    market = _market(slug)
    form = _decision(request)
    if form.errors:
        return _answer(request, market, False, errors_text(form))
    return _run(request, market, act, _of(market, pk), form.cleaned_data)


@require_POST
@login_required
@role_required(OPERATOR)
def approve(request, slug: str, pk: int):
    return _decide(request, slug, pk, lambda iv, data: commands.approve_intervention(
        iv, request.user, data["comment"], data["code"] or None))


@require_POST
@login_required
@role_required(OPERATOR)
def reject(request, slug: str, pk: int):
    return _decide(request, slug, pk, lambda iv, data: commands.reject_intervention(
        iv, request.user, data["comment"]))


@require_POST
@login_required
@role_required(OPERATOR)
def cancel(request, slug: str, pk: int):
    return _decide(request, slug, pk, lambda iv, data: commands.cancel_intervention(
        iv, request.user, data["comment"]))


@require_POST
@login_required
@role_required(OPERATOR)
def pause(request, slug: str, pk: int):
    return _decide(request, slug, pk, lambda iv, data: commands.pause_intervention(
        iv, reason=data["comment"], user=request.user))


@require_POST
@login_required
@role_required(OPERATOR)
def resume(request, slug: str, pk: int):
    return _decide(request, slug, pk, lambda iv, data: commands.resume_intervention(
        iv, reason=data["comment"], user=request.user))


@require_POST
@login_required
@role_required(ADMIN)
def save_settings(request, slug: str):
    market = _market(slug)
    form = SettingsForm(request.POST)
    if not form.is_valid():
        return _page(request, market, "Nothing was saved: " + errors_text(form), False, form, 422)
    try:
        config = workflow.config_from({p.name: form.cleaned_data[p.name] for p in PARAMS})
    except workflow.InterventionError as exc:
        return _page(request, market, f"Nothing was saved: {exc}", False, form, 422)
    try:
        version = workflow.change_settings(
            market, config, expected_version=form.cleaned_data["version"], user=request.user,
            reason=form.cleaned_data["reason"],
        )
    except workflow.InterventionError as exc:
        return _page(request, market, str(exc), False, form, 409)
    messages.success(request, f"Saved as version {version.number}: {len(version.changes)} change(s).")
    return redirect("interventions", slug=slug)
