"""The liquidity sizing page: per market, a form prefilled with the flow estimated from its fills,
its bots' settings and its balances; operators start a Monte Carlo run (bots.simulation.sizing_runs), whose
progress bar moves over the /ws/sizing/ socket, and read the answer as sentences and plots."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from bots.desk.roles import OPERATOR, has_role, role_required
from bots.models import Market, SizingRun
from bots.models.targets import plain
from bots.simulation import sizing_runs
from dashboard.forms import RefusesControlCharacters, errors_text

PAST_RUNS = 10
NUMBER = {"max_digits": 38, "decimal_places": 18}
FLOW_FIELDS = ("trades_per_minute", "mean_size", "buy_share")


def _number(label: str, low: str, high: str, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal(low),
        max_value=Decimal(high),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
        **NUMBER,
        **kwargs,
    )


class SizingForm(RefusesControlCharacters, forms.Form):
    # The flow
    trades_per_minute = _number("User orders a minute", "0.0001", "600")
    mean_size = _number("Mean order size ({base})", "0.00000001", "1000000000")
    buy_share = _number("Share of orders that buy (0 to 1)", "0", "1")
    price = _number("Mid price ({quote})", "0.00000001", "1000000000000")
    daily_volatility_pct = _number("Daily volatility (%)", "0", "100")
    # The bots' settings
    mm_half_spread_bps = _number("MM half spread (bps)", "0", "5000")
    hedge_cost_bps = _number("Hedge cost (bps)", "0", "5000")
    # The pools
    mm_base = _number("MM account {base}", "0", "1000000000000000")
    mm_quote = _number("MM account {quote}", "0", "1000000000000000")
    hedge_base = _number("Hedge account {base}", "0", "1000000000000000")
    hedge_quote = _number("Hedge account {quote}", "0", "1000000000000000")
    floor_base = _number("Floor {base} (each account)", "0", "1000000000000000")
    floor_quote = _number("Floor {quote} (each account)", "0", "1000000000000000")
    # The question
    horizon_days = _number(
        "Rebalance at most once in (days)",
        str(sizing_runs.MIN_HORIZON_DAYS),
        str(sizing_runs.MAX_HORIZON_DAYS),
    )
    confidence_pct = _number("Confidence (%)", "50", "99.9", initial=Decimal(95))
    paths = forms.IntegerField(
        label="Paths",
        min_value=sizing_runs.MIN_PATHS,
        max_value=sizing_runs.MAX_PATHS,
        initial=1000,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 10}),
    )
    seed = forms.IntegerField(
        label="Seed (empty: random)",
        min_value=0,
        max_value=2**31 - 1,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 10}),
    )

    GROUPS = [
        (
            "Users' flow",
            ["trades_per_minute", "mean_size", "buy_share", "price", "daily_volatility_pct"],
        ),
        ("Bots' settings", ["mm_half_spread_bps", "hedge_cost_bps"]),
        (
            "Balances",
            ["mm_base", "mm_quote", "hedge_base", "hedge_quote", "floor_base", "floor_quote"],
        ),
        ("Question", ["horizon_days", "confidence_pct", "paths", "seed"]),
    ]

    def __init__(self, market: Market, *args, disabled: bool = False, **kwargs):
        kwargs.setdefault("auto_id", f"{market.slug}-%s")
        super().__init__(*args, **kwargs)
        self.market = market
        for name, f in self.fields.items():
            f.label = f.label.format(base=market.base, quote=market.quote)
            f.disabled = disabled
            if isinstance(self.initial.get(name), Decimal):
                self.initial[name] = plain(self.initial[name])
        self.fields["horizon_days"].initial = 7

    def groups(self):
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    def clean(self):
        data = super().clean()
        for account, asset, floor in [
            ("mm", "base", "floor_base"),
            ("mm", "quote", "floor_quote"),
            ("hedge", "base", "floor_base"),
            ("hedge", "quote", "floor_quote"),
        ]:
            held, minimum = data.get(f"{account}_{asset}"), data.get(floor)
            if held is not None and minimum is not None and held <= minimum:
                who = "MM" if account == "mm" else "hedge"
                name = self.market.base if asset == "base" else self.market.quote
                raise ValidationError(
                    f"The {who} account's {name} ({plain(held)}) is not above its floor "
                    f"({plain(minimum)}): it is dry already."
                )
        return data


def _card(
    request,
    market: Market,
    form: SizingForm | None = None,
    shown: SizingRun | None = None,
    note: str = "",
    ok: bool = True,
    ask_again: bool = False,
) -> dict:
    """One market's card. With `ask_again`, the form holds `shown`'s question rather than the
    market's current figures, to change one input and run it again."""
    can_run = has_role(request.user, OPERATOR)
    suggestion = sizing_runs.suggest(market)
    if form is None:
        initial = suggestion.initial
        if ask_again and shown is not None:
            initial = sizing_runs.question(shown)
            note = note or (
                f"The form holds run #{shown.pk}'s inputs; reload the page for the market's "
                "current figures."
            )
        form = SizingForm(market, initial=initial, disabled=not can_run)
    runs = list(market.sizing_runs.select_related("market")[:PAST_RUNS])
    active = next((r for r in runs if r.state in SizingRun.ACTIVE), None)
    if shown is None:
        shown = next((r for r in runs if r.state == SizingRun.DONE), None)
    # A run that failed since the one shown says so (a newer success replaces it).
    failed = next((r for r in runs if r.state == SizingRun.FAILED), None)
    if failed and shown and failed.created_at < shown.created_at:
        failed = None
    return {
        "market": market,
        "form": form,
        "suggestion": suggestion,
        "can_run": can_run,
        "runs": runs,
        "active": active,
        "shown": shown,
        "failed": failed,
        "hist_id": f"sizing-hist-{shown.pk}" if shown else "",
        "answer": sizing_runs.answer(shown) if shown else [],
        "described": sizing_runs.describe(shown) if shown else "",
        "note": note,
        "ok": ok,
    }


def _markets():
    return Market.objects.select_related(
        "mm_account__venue", "hedge_account__venue", "quote_settings"
    ).order_by("symbol")


def _page(request, cards: list[dict], status: int = 200):
    return render(
        request,
        "sizing.html",
        {
            "cards": cards,
            "max_paths": sizing_runs.MAX_PATHS,
            "max_days": sizing_runs.MAX_HORIZON_DAYS,
        },
        status=status,
    )


@require_GET
@login_required
def sizing(request):
    return _page(request, [_card(request, market) for market in _markets()])


@require_GET
@login_required
def run_result(request, pk: int):
    """One run in its market's card: the htmx refresh when a run ends, or a link to a past run."""
    run = get_object_or_404(SizingRun.objects.select_related("market"), pk=pk)
    market = _markets().get(pk=run.market_id)
    card = _card(
        request,
        market,
        shown=run if run.state == SizingRun.DONE else None,
        ask_again=run.state == SizingRun.DONE,
    )
    if request.htmx:
        return render(request, "partials/sizing_card.html", {"c": card})
    cards = [card if m.pk == market.pk else _card(request, m) for m in _markets()]
    return _page(request, cards)


@require_POST
@login_required
@role_required(OPERATOR)
def start_run(request, slug: str):
    market = get_object_or_404(_markets(), slug=slug)
    form = SizingForm(market, request.POST)
    error = ""
    if not form.is_valid():
        error = f"Not started: {errors_text(form)}"
    else:
        values = dict(form.cleaned_data)
        estimate = sizing_runs.market_flow(market)
        estimated = sizing_runs.flow_initial(estimate)
        # The estimate drifts while the form is open (the window moves): within 1% is kept.
        by_hand = any(
            estimated.get(name) is None
            or abs(values[name] - estimated[name]) > abs(estimated[name]) / 100
            for name in FLOW_FIELDS
        )
        source = "Flow entered by hand." if by_hand else estimate.message
        try:
            run = sizing_runs.start(market, request.user, values, flow_source=source)
        except sizing_runs.SizingError as exc:
            error = str(exc)
    if error:
        if request.htmx:
            card = _card(request, market, form=form, note=error, ok=False)
            return render(request, "partials/sizing_card.html", {"c": card}, status=400)
        cards = [
            _card(request, m, form=form, note=error, ok=False)
            if m.pk == market.pk
            else _card(request, m)
            for m in _markets()
        ]
        return _page(request, cards, status=400)
    note = (
        f"Run #{run.pk} queued: {run.paths:,} paths of {plain(run.horizon_days)} days "
        f"in {run.step_seconds} s steps."
    )
    if request.htmx:
        card = _card(request, market, form=SizingForm(market, request.POST), note=note)
        return render(request, "partials/sizing_card.html", {"c": card})
    messages.success(request, f"{market.symbol}: {note}")
    return redirect(reverse("sizing") + f"#sizing-{market.slug}")
