"""The venues page (admins): the exchanges Ballast connects to, each picked from ccxt's own list,
with its testnet switch and the few options a venue may have (bots.venues.venue_options)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.desk.onboarding import save_venue
from bots.desk.roles import ADMIN, role_required
from bots.models import Venue
from bots.venues.venue_options import InvalidVenue
from dashboard.forms import RefusesControlCharacters


class VenueForm(RefusesControlCharacters, forms.ModelForm):
    options_json = forms.CharField(
        required=False, label="Options (JSON, usually empty)",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text='Only timeout, enableRateLimit, a few ccxt options, and urls pointing at a '
        'host in BALLAST_VENUE_URL_HOSTS (the local stubs, a testnet): see docs/operations.md',
    )

    class Meta:
        model = Venue
        fields = ["name", "label", "exchange_id", "sandbox"]
        labels = {"exchange_id": "Exchange (ccxt id)", "sandbox": "Testnet (sandbox mode)"}
        widgets = {"exchange_id": forms.TextInput(attrs={"list": "ccxt-exchanges"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exchange_id"].required = True
        if self.instance.pk:
            self.initial["options_json"] = json.dumps(self.instance.options)

    def clean_options_json(self):
        text = self.cleaned_data["options_json"].strip()
        try:
            return json.loads(text) if text else {}
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from exc


def _render(request, form: VenueForm, status: int = 200):
    context = {
        "form": form,
        # The paper venues (the demo's) too, marked as such: there is nothing to set on them.
        "venues": Venue.objects.order_by("kind", "label"),
        "exchanges": exchange_ids(),
    }
    return render(request, "onboarding_venues.html", context, status=status)


@require_GET
@login_required
@role_required(ADMIN)
def venues(request):
    return _render(request, VenueForm())


@require_POST
@login_required
@role_required(ADMIN)
def add_venue(request):
    form = VenueForm(request.POST)
    if form.is_valid():
        venue = form.save(commit=False)
        venue.options = form.cleaned_data["options_json"]
        try:
            save_venue(venue, user=request.user)
        except InvalidVenue as exc:
            form.add_error("options_json" if exc.field == "options" else exc.field, str(exc))
        else:
            messages.success(request, f"{venue} added: now add its accounts and their keys.")
            return redirect("onboarding-accounts")
    return _render(request, form, status=422)


def exchange_ids() -> list[str]:
    """ccxt's exchange ids, for the venue form's list."""
    import ccxt  # a second of import: only on this page, never in every web process

    return ccxt.exchanges
