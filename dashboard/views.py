"""Pages of the desk. A view renders the whole page, or its named partial for htmx requests."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.models import Account, Market
from bots.tasks import simulated_user_trade

from .forms import UserTradeForm
from .live import market_snapshot
from .market_history import HISTORY_HOURS, market_history
from .roles import OPERATOR, has_role, role_required


def _market(slug: str) -> Market:
    return get_object_or_404(
        Market.objects.select_related("mm_account__venue", "hedge_account__venue"), slug=slug
    )


@require_GET
@login_required
def home(request):
    """A desk of one market opens on it; a desk of several on the overview of them all."""
    markets = list(Market.objects.order_by("pk")[:2])
    if not markets:
        return render(request, "no_markets.html")
    if len(markets) > 1:
        return redirect("overview")
    return redirect("market", slug=markets[0].slug)


@require_GET
@login_required
def market_page(request, slug: str):
    market = _market(slug)
    if request.htmx and request.htmx.target == "market-history":
        # The page asks for its history again when it missed a whole bucket of pushes.
        return JsonResponse(market_history(market))
    has_users = Account.objects.filter(venue=market.mm_account.venue, role=Account.USERS).exists()
    return render(
        request,
        "market.html",
        {
            "market": market,
            "markets": Market.objects.order_by("symbol"),
            "snapshot": market_snapshot(market),
            "history": market_history(market),
            "history_hours": HISTORY_HOURS,
            "can_simulate": has_users and has_role(request.user, OPERATOR),
            "can_operate": has_role(request.user, OPERATOR),
            "trade_form": UserTradeForm(initial={"side": "buy", "amount": "0.1"}),
        },
    )


@require_POST
@login_required
@role_required(OPERATOR)
def user_trade(request, slug: str):
    market = _market(slug)
    form = UserTradeForm(request.POST)
    if form.is_valid():
        side, amount = form.cleaned_data["side"], form.cleaned_data["amount"]
        transaction.on_commit(lambda: simulated_user_trade.delay(market.pk, side, str(amount)))
        note = f"Sent: a user {'buys' if side == 'buy' else 'sells'} {amount} {market.base}."
        ok = True
    else:
        note = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in form.errors.items())
        ok = False
    if request.htmx:
        return render(
            request, "partials/trade_result.html", {"note": note, "ok": ok}, status=200 if ok else 400
        )
    (messages.success if ok else messages.error)(request, note)
    return redirect("market", slug=slug)
