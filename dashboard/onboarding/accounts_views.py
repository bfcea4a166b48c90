"""The accounts page (admins): the bots' accounts at each venue, their keys and connection tests.

Keys are typed once: the fields never show a stored key (not even masked), and the page says
only whether one is set. Setting, replacing and removing keys are audited (bots.desk.onboarding).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.desk import four_eyes, onboarding
from bots.desk.roles import ADMIN, role_required
from bots.models import Account, ChangeRequest, Venue
from dashboard.forms import RefusesControlCharacters


def _secret(label: str, required: bool = True) -> forms.CharField:
    # render_value=False: a form sent back with errors does not carry the key into the page.
    return forms.CharField(label=label, required=required, max_length=500,
                           widget=forms.PasswordInput(render_value=False,
                                                      attrs={"autocomplete": "off"}))


class KeysForm(RefusesControlCharacters, forms.Form):
    api_key = _secret("API key")
    secret = _secret("Secret")
    password = _secret("Passphrase (some exchanges)", required=False)


class AccountForm(KeysForm):
    venue = forms.ModelChoiceField(queryset=Venue.objects.filter(kind=Venue.CCXT))
    name = forms.CharField(max_length=100)
    role = forms.ChoiceField(choices=onboarding.BOT_ROLES)
    field_order = ["venue", "name", "role", "api_key", "secret", "password"]

    def clean(self):
        cleaned = super().clean()
        venue, name = cleaned.get("venue"), cleaned.get("name")
        if venue and name and Account.objects.filter(venue=venue, name=name).exists():
            self.add_error("name", f"{venue} already has an account named {name}")
        return cleaned


def _accounts():
    return (Account.objects.filter(venue__kind=Venue.CCXT)
            .select_related("venue").order_by("venue__label", "name"))


def _with_waiting_keys(accounts) -> list[Account]:
    """The accounts, each with `waiting_key`: its withdrawal key's change that waits for a
    second admin, or None."""
    accounts = list(accounts)
    waiting = {
        change.payload.get("account"): change
        for change in ChangeRequest.objects.filter(state=ChangeRequest.PENDING,
                                                   kind=ChangeRequest.KEY)
    }
    for account in accounts:
        account.waiting_key = waiting.get(account.pk)
    return accounts


def _render(request, form: AccountForm | None = None, status: int = 200):
    # One keys form per account card: without ids, so the cards do not repeat one.
    keys_form = KeysForm(auto_id=False)
    context = {"form": form or AccountForm(), "accounts": _with_waiting_keys(_accounts()),
               "keys_form": keys_form,
               # The list shows the paper accounts (the demo's) as well, marked as such.
               "all_accounts": Account.objects.select_related("venue")
               .order_by("venue__kind", "venue__label", "name")}
    return render(request, "onboarding_accounts.html", context, status=status)


@require_GET
@login_required
@role_required(ADMIN)
def accounts(request):
    return _render(request)


@require_POST
@login_required
@role_required(ADMIN)
def add_account(request):
    form = AccountForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=422)
    data = form.cleaned_data
    account = onboarding.add_account(
        data["venue"], data["name"], data["role"], user=request.user, api_key=data["api_key"],
        secret=data["secret"], password=data["password"],
    )
    messages.success(request, f"{account} added with its key: test its connection now.")
    return redirect("onboarding-accounts")


def _which(which: str) -> str:
    if which not in ("trading", "withdrawal"):
        raise Http404("no such key")
    return which


def _account(pk: int) -> Account:
    return get_object_or_404(Account.objects.select_related("venue"), pk=pk,
                             venue__kind=Venue.CCXT)


@require_POST
@login_required
@role_required(ADMIN)
def set_keys(request, pk: int, which: str):
    account, which = _account(pk), _which(which)
    form = KeysForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{account}: API key and secret are both needed; nothing saved.")
        return redirect("onboarding-accounts")
    data = form.cleaned_data
    keys = {"api_key": data["api_key"], "secret": data["secret"], "password": data["password"]}
    if which == "withdrawal":
        try:
            onboarding.set_withdrawal_key(account, user=request.user, **keys)
        except four_eyes.ChangeRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{account}: withdrawal key proposed; it is set when "
                             "another admin confirms it on the Changes page.")
        return redirect("onboarding-accounts")
    onboarding.set_keys(account, user=request.user, **keys)
    messages.success(request, f"{account}: trading key saved; test the connection again.")
    return redirect("onboarding-accounts")


@require_POST
@login_required
@role_required(ADMIN)
def remove_key(request, pk: int, which: str):
    account, which = _account(pk), _which(which)
    onboarding.remove_keys(account, user=request.user, withdrawal=which == "withdrawal")
    messages.success(request, f"{account}: {which} key removed.")
    return redirect("onboarding-accounts")


@require_POST
@login_required
@role_required(ADMIN)
def check(request, pk: int):
    account = _account(pk)
    onboarding.check_connection(account, user=request.user)
    if request.htmx:
        return render(request, "partials/connection_report.html", {"account": account})
    return redirect("onboarding-accounts")
