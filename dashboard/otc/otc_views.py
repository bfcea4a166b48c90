"""The desk's page of the OTC broker markets: quotes asked, accepted, expired and refused, their
hedges and P&L; the market's pricing and limits and its inventory account (admins); and the API
clients' tokens (admins: made here, shown once, revoked here).

Everyone logged in sees it. Each change is audited. With htmx a form swaps its own section;
without JavaScript a change redirects back with a message, except a new token, which is shown
on the page that answers the form (a secret is never put in a session to survive a redirect).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bots.desk.audit import record
from bots.desk.roles import ADMIN, OPERATOR, has_role, role_required
from bots.engine.figures import in_price, plain
from bots.engine.otc import pricing
from bots.models import (
    Account,
    ApiClient,
    BrokerQuote,
    BrokerSettings,
    Hedge,
    Market,
    QuoteSettings,
    Venue,
)
from bots.otc import clients, quotes
from dashboard.forms import RefusesControlCharacters

SHOWN_QUOTES = 50
SETTINGS_FIELDS = ("spread_bps", "quote_seconds", "max_amount", "daily_limit", "tolerance_bps")


def _inventory_accounts():
    return Account.objects.exclude(role__in=[Account.USERS, Account.LIQUIDITY]).select_related("venue").order_by("pk")


class BrokerSettingsForm(RefusesControlCharacters, forms.ModelForm):
    inventory_account = forms.ModelChoiceField(
        queryset=_inventory_accounts(), help_text="Sources both sides of every quote accepted"
    )

    class Meta:
        model = BrokerSettings
        fields = SETTINGS_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SETTINGS_FIELDS:  # 30, not 30.000000000000000000
            value = self.initial.get(name)
            if isinstance(value, Decimal):
                self.initial[name] = format(value.normalize(), "f")


class BrokerMarketForm(RefusesControlCharacters, forms.Form):
    slug = forms.SlugField(max_length=50)
    symbol = forms.RegexField(r"^[A-Z0-9]{1,15}/[A-Z0-9]{1,15}$", max_length=31, help_text="e.g. BTC/USDT")
    inventory_account = forms.ModelChoiceField(queryset=_inventory_accounts())
    hedge_account = forms.ModelChoiceField(queryset=Account.objects.filter(role=Account.HEDGING).select_related("venue"))

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if Market.objects.filter(slug=slug).exists():
            raise forms.ValidationError("A market has this slug already.")
        return slug


class ApiClientForm(RefusesControlCharacters, forms.Form):
    name = forms.CharField(max_length=100)
    requests_per_minute = forms.IntegerField(min_value=1, max_value=6000, initial=60)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if ApiClient.objects.filter(name=name).exists():
            raise forms.ValidationError("A client has this name already.")
        return name


class TryQuoteForm(RefusesControlCharacters, forms.Form):
    """A quote asked by hand, as a user would through the front end."""

    side = forms.ChoiceField(choices=[("buy", "user buys"), ("sell", "user sells")])
    amount = forms.DecimalField(max_digits=38, decimal_places=18)


def _can_try(request, market: Market | None) -> bool:
    """Operators of a paper desk: an accepted quote books a fill and hedges it, which on a real
    exchange is the exchange's own money; there, quotes come from the front end only."""
    return (
        market is not None
        and market.mm_account.venue.kind == Venue.PAPER
        and has_role(request.user, OPERATOR)
    )


def _day(market: Market) -> dict:
    """Today's (UTC) figures of the market's quotes."""
    now = timezone.now()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = BrokerQuote.objects.filter(market=market, created_at__gte=start)
    counts = {state: 0 for state, _ in BrokerQuote.STATE_CHOICES}
    for quote in today.only("state", "expires_at"):
        counts[quote.state_at(now)] += 1
    accepted = list(
        BrokerQuote.objects.filter(market=market, state=BrokerQuote.ACCEPTED, decided_at__gte=start)
        .select_related("fill__hedge")
    )
    hedges = [q.fill.hedge for q in accepted if q.fill_id]
    closed = [h for h in hedges if h.state in Hedge.CLOSED]
    return {
        "date": start,
        "asked": sum(counts.values()),
        "counts": counts,
        "volume": sum((q.price * q.amount for q in accepted), Decimal(0)),
        "hedged": len(closed),
        "hedging": sum(1 for h in hedges if h.state not in Hedge.FINAL),
        "failed": sum(1 for h in hedges if h.state == Hedge.FAILED),
        "pnl": sum((h.pnl_quote for h in closed if h.pnl_quote is not None), Decimal(0)),
    }


def _shown(rows) -> list[BrokerQuote]:
    now = timezone.now()
    rows = list(rows)
    for quote in rows:
        quote.shown_state = quote.state_at(now)
    return rows


def _context(request, market: Market | None, **extra) -> dict:
    context = {
        "here": "otc",
        "market": market,
        "markets": Market.objects.filter(kind=Market.BROKER).order_by("slug"),
        "is_admin": has_role(request.user, ADMIN),
        "clients": ApiClient.objects.order_by("revoked_at", "name"),
        "client_form": ApiClientForm(),
        "market_form": BrokerMarketForm(),
        "api_schema": "/api/otc/v1/openapi.json",
    }
    if market is not None:
        terms = quotes.broker_settings(market)
        context.update({
            "terms": terms,
            "settings_form": BrokerSettingsForm(instance=terms, initial={"inventory_account": market.mm_account_id}),
            "today": _day(market),
            "quotes": _shown(BrokerQuote.objects.filter(market=market)
                             .select_related("client", "fill__hedge").order_by("-created_at")[:SHOWN_QUOTES]),
            "can_try": _can_try(request, market),
            # A tenth of the largest quote: a size the market takes, whatever its asset.
            "try_form": TryQuoteForm(initial={"side": "buy", "amount": plain(terms.max_amount / 10)}),
        })
    context.update(extra)
    return context


def _broker(slug: str) -> Market:
    return get_object_or_404(Market.objects.select_related("mm_account__venue"), slug=slug, kind=Market.BROKER)


@require_GET
@login_required
def otc(request):
    first = Market.objects.filter(kind=Market.BROKER).order_by("slug").first()
    if first is not None:
        return redirect("otc-market", slug=first.slug)
    return render(request, "otc.html", _context(request, None))


@require_GET
@login_required
def otc_market(request, slug: str):
    market = _broker(slug)
    template = "partials/otc_quotes.html" if request.htmx else "otc.html"
    return render(request, template, _context(request, market))


def _answer(request, market: Market | None, partial: str, ok: bool, note: str, **extra):
    if request.htmx:
        context = _context(request, market, note=note, ok=ok, **extra)
        return render(request, partial, context, status=200 if ok else 422)
    (messages.success if ok else messages.error)(request, note)
    return redirect("otc-market", slug=market.slug) if market else redirect("otc")


def _errors(form: forms.Form) -> str:
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


@require_POST
@login_required
@role_required(OPERATOR)
def try_quote(request, slug: str):
    """Ask for a firm quote by hand, or accept the one shown (`ref`): through the API's own code,
    as the desk's client, the operator as the user. Paper desks only (`_can_try`)."""
    market = _broker(slug)
    partial = "partials/otc_try.html"
    if not _can_try(request, market):
        return _answer(request, market, partial, False,
                       "Quotes by hand are for a paper desk: here they come from the front end only.")
    client = clients.desk_client()
    if client.revoked_at is not None:  # an admin stopped quotes by hand, as any client's
        return _answer(request, market, partial, False,
                       f'The client "{client.name}" is revoked: quotes by hand are stopped.')
    ref = request.POST.get("ref")
    if ref:
        try:
            quote = quotes.accept(client, ref)
        except quotes.QuoteRefused as refused:
            return _answer(request, market, partial, False, f"Not accepted: {refused.message}.")
        verb = {"sell": "sold", "buy": "bought"}[pricing.desk_side(quote.side)]
        return _answer(request, market, partial, True,
                       f"Accepted: the desk {verb} {plain(quote.amount)} {market.base} at "
                       f"{in_price(quote.price, market.quote)} {market.quote}; its hedge is on its way.")
    form = TryQuoteForm(request.POST)
    if not form.is_valid():
        return _answer(request, market, partial, False, _errors(form), try_form=form)
    side, amount = form.cleaned_data["side"], form.cleaned_data["amount"]
    try:
        quote = quotes.ask(market, client, request.user.username, side, amount)
    except quotes.QuoteRefused as refused:
        return _answer(request, market, partial, False, f"No quote: {refused.message}.", try_form=form)
    record("otc_quote_asked_by_hand", user=request.user, market=market, subject=str(quote.ref),
           side=side, amount=amount, price=quote.price)
    # Shown on the page that answers, with its Accept button, also without JavaScript.
    context = _context(request, market, offered=quote, try_form=form, ok=True)
    return render(request, partial if request.htmx else "otc.html", context)


@require_POST
@login_required
@role_required(ADMIN)
def save_settings(request, slug: str):
    market = _broker(slug)
    terms = quotes.broker_settings(market)
    before = {name: getattr(terms, name) for name in SETTINGS_FIELDS}
    before["inventory_account"] = market.mm_account
    form = BrokerSettingsForm(request.POST, instance=terms)
    if not form.is_valid():
        return _answer(request, market, "partials/otc_settings.html", False, _errors(form), settings_form=form)
    after = {name: form.cleaned_data[name] for name in SETTINGS_FIELDS}
    after["inventory_account"] = form.cleaned_data["inventory_account"]
    changes = {
        name: {"old": str(before[name]), "new": str(after[name])}
        for name in after if before[name] != after[name]
    }
    if not changes:
        return _answer(request, market, "partials/otc_settings.html", True, "Nothing changed.")
    with transaction.atomic():
        form.save()
        Market.objects.filter(pk=market.pk).update(mm_account=after["inventory_account"])
        record("otc_settings_changed", user=request.user, market=market, subject=market.slug, changes=changes)
    market.refresh_from_db()
    return _answer(request, market, "partials/otc_settings.html", True, f"Saved: {', '.join(changes)}.")


@require_POST
@login_required
@role_required(ADMIN)
def add_market(request):
    form = BrokerMarketForm(request.POST)
    if not form.is_valid():
        return _answer(request, None, "partials/otc_new_market.html", False, _errors(form), market_form=form)
    data = form.cleaned_data
    with transaction.atomic():
        market = Market.objects.create(
            slug=data["slug"], symbol=data["symbol"], kind=Market.BROKER,
            mm_account=data["inventory_account"], hedge_account=data["hedge_account"],
        )
        QuoteSettings.objects.create(market=market)
        BrokerSettings.objects.create(market=market)
        record("otc_market_added", user=request.user, market=market, subject=market.slug,
               symbol=market.symbol, inventory_account=str(market.mm_account),
               hedge_account=str(market.hedge_account))
    if request.htmx:
        response = render(request, "partials/otc_new_market.html", _context(request, None, ok=True, note="Added."))
        response["HX-Redirect"] = f"/otc/{market.slug}/"
        return response
    messages.success(request, f"Broker market {market.slug} added.")
    return redirect("otc-market", slug=market.slug)


@require_POST
@login_required
@role_required(ADMIN)
def add_client(request):
    market = Market.objects.filter(slug=request.POST.get("market", ""), kind=Market.BROKER).first()
    form = ApiClientForm(request.POST)
    if not form.is_valid():
        return _answer(request, market, "partials/otc_clients.html", False, _errors(form), client_form=form)
    client, token = clients.create(form.cleaned_data["name"], form.cleaned_data["requests_per_minute"], request.user)
    # The only time the token exists outside the caller: shown in this answer, never stored.
    context = _context(request, market, new_token=token, new_client=client, ok=True)
    if request.htmx:
        context["note"] = f"Token made for {client.name}: copy it now, it is not shown again."
    template = "partials/otc_clients.html" if request.htmx else "otc.html"
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
@role_required(ADMIN)
def revoke_client(request, pk: int):
    client = get_object_or_404(ApiClient, pk=pk)
    market = Market.objects.filter(slug=request.POST.get("market", ""), kind=Market.BROKER).first()
    done = clients.revoke(client, request.user)
    note = f"{client.name}'s token is revoked." if done else f"{client.name}'s token was revoked already."
    return _answer(request, market, "partials/otc_clients.html", done, note)

