"""The targets page: each market's bands and the exchange's listing rules, how well the market
kept them over the last day and week, and (admins) editing them with their history."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bots.desk.health import compliance
from bots.desk.roles import ADMIN, has_role, role_required
from bots.desk.targets import change_targets
from bots.engine.desk.liquidity import FLAGSHIP_SYMBOLS
from bots.models import Market, MarketTargets
from bots.models.targets import plain
from dashboard.forms import RefusesControlCharacters

HISTORY_LENGTH = 10

# (label, target field, red-line field, unit, which way is better) as the card and form show them.
BANDS = [
    ("Spread", "spread_target_bps", "spread_alarm_bps", "bps", "≤", ">"),
    ("Depth ±0.5% per side", "depth_05_target", "depth_05_alarm", "quote", "≥", "<"),
    ("Depth ±1% per side", "depth_1_target", "depth_1_alarm", "quote", "≥", "<"),
    ("Depth ±2% per side", "depth_2_target", "depth_2_alarm", "quote", "≥", "<"),
    ("Both sides quoted, share of the day", "uptime_target_pct", "uptime_alarm_pct", "%", "≥", "<"),
]


class TargetsForm(RefusesControlCharacters, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = MarketTargets
        fields = MarketTargets.EDITABLE

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, forms.DecimalField):
                field.widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 10})
                # 10, not 10.000000000000000000: the stored precision is no one's to read.
                self.initial[name] = plain(self.initial.get(name))
            field.widget.attrs["aria-label"] = str(MarketTargets._meta.get_field(name).verbose_name)


def _market(slug: str) -> Market:
    return get_object_or_404(Market, slug=slug)


def _history(market: Market) -> list[dict]:
    rows = []
    for change in market.target_changes.select_related("user")[:HISTORY_LENGTH]:
        rows.append(
            {
                "change": change,
                "fields": [
                    (MarketTargets._meta.get_field(field).verbose_name, old, new)
                    for field, (old, new) in change.changes.items()
                ],
            }
        )
    return rows


def card(market: Market, user, form: TargetsForm | None = None, note: str = "", ok: bool = True) -> dict:
    targets = MarketTargets.current(market)
    now = timezone.now()
    day, week = compliance(market, now - timedelta(days=1)), compliance(market, now - timedelta(days=7))
    bands = []
    for label, target, alarm, unit, better, worse in BANDS:
        bands.append(
            {
                "label": label,
                "target": getattr(targets, target),
                "alarm": getattr(targets, alarm),
                "unit": market.quote if unit == "quote" else unit,
                "better": better,
                "worse": worse,
                "target_field": form[target] if form else None,
                "alarm_field": form[alarm] if form else None,
            }
        )
    return {
        "market": market,
        "targets": targets,
        "flagship": market.symbol in FLAGSHIP_SYMBOLS,
        "saved": targets.pk is not None,
        "bands": bands,
        "day": day,
        "week": week,
        "periods": [("Last day", day), ("Last week", week)],
        "history": _history(market),
        "form": form,
        "can_edit": has_role(user, ADMIN),
        "note": note,
        "ok": ok,
    }


def _page(request, editing: Market | None = None, form: TargetsForm | None = None, status: int = 200):
    cards = [
        card(market, request.user, form if market == editing else None)
        for market in Market.objects.filter(kind=Market.BOOK).order_by("symbol")
    ]
    return render(request, "targets.html", {"cards": cards}, status=status)


@require_GET
@login_required
def targets(request):
    return _page(request)


def _form_for(market: Market, data=None) -> TargetsForm:
    targets = MarketTargets.current(market)
    return TargetsForm(data, instance=targets, initial={"version": targets.version})


@require_GET
@login_required
@role_required(ADMIN)
def edit_targets(request, slug: str):
    market = _market(slug)
    form = _form_for(market)
    if request.htmx:
        return render(request, "partials/targets_card.html", {"c": card(market, request.user, form)})
    return _page(request, editing=market, form=form)


@require_POST
@login_required
@role_required(ADMIN)
def save_targets(request, slug: str):
    market = _market(slug)
    # The form validates on a copy: the targets shown beside its errors stay the saved ones.
    form = _form_for(market, request.POST)
    change = None
    if form.is_valid():
        try:
            saved = MarketTargets.for_market(market)
            change = change_targets(saved, request.user, form.cleaned_data, form.cleaned_data["version"])
        except ValidationError as exc:
            form.add_error(None, exc)
    if not form.is_valid() or form.errors:
        if request.htmx:
            context = {"c": card(market, request.user, form, "Not saved: see the messages by the fields.", ok=False)}
            return render(request, "partials/targets_card.html", context, status=400)
        return _page(request, editing=market, form=form, status=400)
    note = f"Saved as version {change.version}." if change else "Nothing changed."
    if request.htmx:
        return render(request, "partials/targets_card.html", {"c": card(market, request.user, note=note)})
    messages.success(request, f"{market.symbol}: {note}")
    return redirect(reverse("targets") + f"#targets-{market.slug}")
