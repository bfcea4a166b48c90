"""The venues page (admins): the exchanges Ballast connects to, each picked from ccxt's own list,
with its testnet switch and the few options a venue may have (bots.venues.venue_options)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bots.desk.onboarding import NothingChanged, save_venue
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
        if "exchange_id" in self.fields:
            self.fields["exchange_id"].required = True
        if self.instance.pk:
            self.initial["options_json"] = json.dumps(self.instance.options)

    def clean_options_json(self):
        text = self.cleaned_data["options_json"].strip()
        try:
            return json.loads(text) if text else {}
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from exc


class VenueEditForm(VenueForm):
    """An existing venue: its label, testnet switch and options (the name is in URLs and the
    exchange is what its keys belong to, so neither changes here)."""

    class Meta(VenueForm.Meta):
        fields = ["label", "sandbox"]


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


@require_http_methods(["GET", "POST"])
@login_required
@role_required(ADMIN)
def edit_venue(request, pk: int):
    """Change a venue's label, testnet switch or options, checked as when it was added. The
    paper venues have nothing to set: they are not found here."""
    venue = get_object_or_404(Venue, pk=pk, kind=Venue.CCXT)
    if request.method == "GET":
        return _render_edit(request, VenueEditForm(instance=venue), venue)
    form = VenueEditForm(request.POST, instance=venue)
    if form.is_valid():
        edited = form.save(commit=False)
        edited.options = form.cleaned_data["options_json"]
        try:
            save_venue(edited, user=request.user)
        except InvalidVenue as exc:
            field = "options_json" if exc.field == "options" else exc.field
            form.add_error(field if field in form.fields else None, str(exc))
        except NothingChanged as exc:
            messages.info(request, str(exc))
            return redirect("onboarding-venues")
        else:
            messages.success(request, f"{edited} saved. Its accounts need a connection test again "
                             "if the testnet switch or the options changed.")
            return redirect("onboarding-venues")
    # The row as it is saved, not as the refused form left the instance.
    return _render_edit(request, form, Venue.objects.get(pk=pk), status=422)


def _render_edit(request, form: VenueEditForm, venue: Venue, status: int = 200):
    return render(request, "onboarding_venue_edit.html", {"form": form, "venue": venue},
                  status=status)


def exchange_ids() -> list[str]:
    """ccxt's exchange ids, for the venue form's list."""
    import ccxt  # a second of import: only on this page, never in every web process

    return ccxt.exchanges
