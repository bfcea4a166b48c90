"""The new-market page (admins): a symbol both accounts' venues list, what each venue says of it
(precision, minimums, fees), and the hedge floor those fees make, checked before anything is
saved; then enabling, which only accounts that passed their connection test allow
(bots.market_making.operator_commands.enable_market)."""

from __future__ import annotations

from decimal import ROUND_CEILING

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.desk.roles import ADMIN, role_required
from bots.engine.market_making.quote_config import (
    DEFAULTS_BY_NAME,
    InvalidSettings,
    hedge_floor_bps,
    parse,
)
from bots.market_making import fee_context
from bots.market_making.operator_commands import (
    CommandRefused,
    change_quote_settings,
    enable_market,
)
from bots.models import Account, Market
from bots.venues import ccxt_errors as ccxt
from bots.venues import venue_for
from dashboard.forms import RefusesControlCharacters


def _tested(role: str):
    return Account.objects.filter(check_passed=True, role=role).select_related("venue")


class AccountsForm(RefusesControlCharacters, forms.Form):
    mm_account = forms.ModelChoiceField(queryset=_tested(Account.MARKET_MAKING),
                                        label="Market-making account (your exchange)")
    hedge_account = forms.ModelChoiceField(queryset=_tested(Account.HEDGING),
                                           label="Hedging account")


class MarketForm(AccountsForm):
    symbol = forms.ChoiceField(choices=[])
    slug = forms.SlugField(max_length=50, help_text="Used in URLs, e.g. btc-usdt")
    bid_spread_bps = forms.DecimalField(min_value=0, max_value=5000, label="Bid spread (bps)")
    ask_spread_bps = forms.DecimalField(min_value=0, max_value=5000, label="Ask spread (bps)")

    def __init__(self, *args, symbols: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["symbol"].choices = [("", "choose")] + [(s, s) for s in symbols]

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if Market.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"A market {slug} exists already")
        return slug


def _symbols(mm: Account, hedge: Account) -> tuple[list[str], str]:
    """The spot symbols both venues list, or a reason they could not be read."""
    try:
        own = venue_for(mm).load_markets()
        outside = venue_for(hedge).load_markets()
    except ccxt.BaseError as exc:
        return [], f"markets could not be loaded: {type(exc).__name__}: {exc}"
    return sorted(s for s in own if s in outside and own[s].get("spot", True)), ""


def _facts(symbol: str, mm: Account, hedge: Account) -> dict:
    """What each venue says of the symbol, and the hedge floor at the default buffer."""
    rows = []
    for role, account in (("own", mm), ("hedge", hedge)):
        try:
            market = venue_for(account).market(symbol)
        except ccxt.BaseError as exc:
            rows.append({"role": role, "account": account, "error": str(exc)})
            continue
        limits = market.get("limits") or {}
        rows.append({
            "role": role, "account": account,
            "price_precision": (market.get("precision") or {}).get("price"),
            "amount_precision": (market.get("precision") or {}).get("amount"),
            "min_amount": (limits.get("amount") or {}).get("min"),
            "min_cost": (limits.get("cost") or {}).get("min"),
            "maker": market.get("maker"), "taker": market.get("taker"),
        })
    context = fee_context.check_context(symbol, mm, [hedge])
    buffer = DEFAULTS_BY_NAME["hedge_buffer_bps"]
    return {"venues": rows, "context": context, "buffer": buffer,
            "floor": hedge_floor_bps(context, buffer)}


def _render(request, *, accounts: AccountsForm, form: MarketForm | None = None,
            facts: dict | None = None, note: str = "", status: int = 200):
    context = {
        "accounts_form": accounts, "form": form, "facts": facts, "note": note,
        "markets": Market.objects.select_related("mm_account__venue", "hedge_account__venue")
        .order_by("symbol"),
    }
    if request.htmx and request.GET.get("facts"):
        return render(request, "partials/market_facts.html", context, status=status)
    return render(request, "onboarding_markets.html", context, status=status)


@require_GET
@login_required
@role_required(ADMIN)
def markets(request):
    accounts = AccountsForm(request.GET or None)
    if not accounts.is_valid():
        return _render(request, accounts=accounts)
    mm, hedge = accounts.cleaned_data["mm_account"], accounts.cleaned_data["hedge_account"]
    symbols, note = _symbols(mm, hedge)
    symbol = request.GET.get("symbol", "")
    facts = _facts(symbol, mm, hedge) if symbol in symbols else None
    spread = DEFAULTS_BY_NAME["bid_spread_bps"]
    if facts and facts["floor"] is not None:
        spread = max(spread, facts["floor"].to_integral_value(rounding=ROUND_CEILING))
    form = MarketForm(initial={"mm_account": mm, "hedge_account": hedge, "symbol": symbol,
                               "slug": symbol.lower().replace("/", "-"),
                               "bid_spread_bps": spread, "ask_spread_bps": spread},
                      symbols=symbols)
    return _render(request, accounts=accounts, form=form, facts=facts, note=note)


@require_POST
@login_required
@role_required(ADMIN)
def add_market(request):
    accounts = AccountsForm(request.POST)
    if not accounts.is_valid():
        return _render(request, accounts=accounts, status=422)
    mm, hedge = accounts.cleaned_data["mm_account"], accounts.cleaned_data["hedge_account"]
    symbols, note = _symbols(mm, hedge)
    form = MarketForm(request.POST, symbols=symbols)
    if not form.is_valid():
        return _render(request, accounts=accounts, form=form, note=note, status=422)
    symbol = form.cleaned_data["symbol"]
    facts = _facts(symbol, mm, hedge)
    # The hedge floor, before anything is saved: the spreads must clear it.
    spreads = {name: form.cleaned_data[name] for name in ("bid_spread_bps", "ask_spread_bps")}
    try:
        config = parse({**DEFAULTS_BY_NAME, **spreads}, facts["context"])
    except InvalidSettings as exc:
        for name, problem in exc.problems.items():
            form.add_error(name if name in spreads else None, problem)
        return _render(request, accounts=accounts, form=form, facts=facts, status=422)
    market = Market.objects.create(slug=form.cleaned_data["slug"], symbol=symbol, mm_account=mm,
                                   hedge_account=hedge, enabled=False)
    change_quote_settings(market, config, expected_version=0, user=request.user,
                          reason="defaults, at the market's creation")
    messages.success(request, f"{symbol} added, not quoting: review its quote settings, then "
                     "enable it here.")
    return redirect("market-settings", slug=market.slug)


@require_POST
@login_required
@role_required(ADMIN)
def enable(request, slug: str):
    market = get_object_or_404(Market, slug=slug)
    try:
        outcome = enable_market(market, user=request.user)
    except CommandRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, outcome.message)
    return redirect("onboarding-markets")
