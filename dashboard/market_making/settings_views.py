"""A market's quote settings page: everyone logged in reads them, admins change them.

The form is built from bots.engine.market_making.quote_config.PARAMS, so every field carries the bounds,
unit and meaning the engine enforces; the engine's cross-field checks run on submit with the
venues' fees and the last reference price. A save goes through bots.market_making.operator_commands, which
versions it (who, when, old and new values); the next tick quotes with it.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.desk.roles import ADMIN, has_role, role_required
from bots.engine.market_making.quote_config import (
    DEFAULTS_BY_NAME,
    GROUPS,
    PARAMS,
    CheckContext,
    InvalidSettings,
    parse,
)
from bots.market_making import fee_context
from bots.market_making.operator_commands import CommandRefused, change_quote_settings
from bots.models import Market, QuoteSettings
from dashboard.forms import RefusesControlCharacters, param_bounds_text, param_field

HISTORY_LENGTH = 20


class QuoteSettingsForm(RefusesControlCharacters, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        required=False, max_length=2000, label="Why (kept with this version)",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    def __init__(self, *args, context: CheckContext, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.context = context
        self.config = None
        for param in PARAMS:
            self.fields[param.name] = param_field(param)
            self.fields[param.name].disabled = read_only
        self.fields["reason"].disabled = read_only

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.config = parse({p.name: cleaned[p.name] for p in PARAMS}, self.context)
        except InvalidSettings as exc:
            for name, message in exc.problems.items():
                self.add_error(name or None, message)
        return cleaned

    def groups(self) -> list[tuple[str, list]]:
        """The parameter fields by group, each with its bounds text, for the template."""
        return [
            (group, [(self[p.name], param_bounds_text(p), p.unit) for p in PARAMS if p.group == group])
            for group in GROUPS
        ]


def check_context(market: Market) -> CheckContext:
    """The venues' fees and the last reference for the cross-field checks (bots.market_making.fee_context)."""
    return fee_context.check_context(
        market.symbol, market.mm_account, market.hedge_accounts(), market.reference_price
    )


def _market(slug: str) -> Market:
    return get_object_or_404(
        Market.objects.select_related("mm_account__venue", "hedge_account__venue"), slug=slug
    )


def _render(request, market: Market, form: QuoteSettingsForm, status: int = 200, note: str = ""):
    context = {
        "market": market,
        "markets": Market.objects.filter(kind=Market.BOOK).order_by("symbol"),
        "form": form,
        "can_edit": has_role(request.user, ADMIN),
        "versions": market.settings_versions.select_related("user")[:HISTORY_LENGTH],
        "fees_known": form.context.hedge_taker_fee is not None and form.context.own_maker_fee is not None,
        "note": note,
    }
    template = "partials/settings_form.html" if request.htmx else "market_settings.html"
    return render(request, template, context, status=status)


def _fresh_form(request, market: Market, context: CheckContext) -> QuoteSettingsForm:
    row = QuoteSettings.objects.filter(market=market).first()
    saved = row.values() if row else dict(DEFAULTS_BY_NAME)  # none yet: the defaults, to save
    # Columns hold 18 decimal places; the form shows 15, not 15.000000000000000000.
    values = {k: f"{v.normalize():f}" if isinstance(v, Decimal) else v for k, v in saved.items()}
    return QuoteSettingsForm(
        initial={**values, "version": row.version if row else 0}, context=context,
        read_only=not has_role(request.user, ADMIN),
    )


@require_GET
@login_required
def settings_page(request, slug: str):
    market = _market(slug)
    return _render(request, market, _fresh_form(request, market, check_context(market)))


@require_POST
@login_required
@role_required(ADMIN)
def save_settings(request, slug: str):
    market = _market(slug)
    context = check_context(market)
    form = QuoteSettingsForm(request.POST, context=context)
    if not form.is_valid():
        return _render(request, market, form, status=422)
    try:
        version = change_quote_settings(
            market, form.config, expected_version=form.cleaned_data["version"], user=request.user,
            reason=form.cleaned_data["reason"],
        )
    except CommandRefused as exc:
        form.add_error(None, str(exc))
        return _render(request, market, form, status=409)
    note = (
        f"Saved as version {version.number}: {len(version.changes)} change(s), in effect from "
        "the next tick."
    )
    market.refresh_from_db()
    if not request.htmx:
        messages.success(request, note)
        return redirect("market-settings", slug=slug)
    return _render(request, market, _fresh_form(request, market, context), note=note)
