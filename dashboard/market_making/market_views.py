"""Pages of the desk. A view renders the whole page, or its named partial for htmx requests."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from bots.desk.roles import OPERATOR, has_role, role_required
from bots.engine.figures import in_asset, plain
from bots.models import Account, Market
from bots.simulation import paper_flow
from bots.venues import ccxt_errors as ccxt
from bots.venues.errors import describe
from dashboard.forms import UserTradeForm
from dashboard.live.publisher import market_snapshot
from dashboard.market_making.market_history import HISTORY_HOURS, market_history


def _market(slug: str) -> Market:
    return get_object_or_404(
        Market.objects.select_related("mm_account__venue", "hedge_account__venue"), slug=slug
    )


@require_GET
@login_required
def home(request):
    """A desk of one market opens on it; a desk of several on the overview of them all."""
    markets = list(Market.objects.filter(kind=Market.BOOK).order_by("pk")[:2])
    if not markets:
        return render(request, "no_markets.html")
    if len(markets) > 1:
        return redirect("overview")
    return redirect("market", slug=markets[0].slug)


@require_GET
@login_required
def market_page(request, slug: str):
    market = _market(slug)
    if market.kind == Market.BROKER:  # no book to show: its quotes are on the OTC page
        return redirect("otc-market", slug=market.slug)
    if request.htmx and request.htmx.target == "market-history":
        # The page asks for its history again when it missed a whole bucket of pushes.
        return JsonResponse(market_history(market))
    has_users = Account.objects.filter(venue=market.mm_account.venue, role=Account.USERS).exists()
    return render(
        request,
        "market.html",
        {
            "market": market,
            "markets": Market.objects.filter(kind=Market.BOOK).order_by("symbol"),
            # The page draws its history from the whole of it below, not from a tail.
            "snapshot": market_snapshot(market, history=False),
            "history": market_history(market),
            "history_hours": HISTORY_HOURS,
            "can_simulate": has_users and has_role(request.user, OPERATOR),
            "can_operate": has_role(request.user, OPERATOR),
            # A typical simulated user's trade: 0.1 would be below the minimum of a cheap token.
            "trade_form": UserTradeForm(initial={"side": "buy", "amount": plain(market.sim_mean_amount)}),
        },
    )


@require_POST
@login_required
@role_required(OPERATOR)
def user_trade(request, slug: str):
    """Send a simulated user's market order now and say what filled: the venue's answer, not
    the request (a book thinner than the order fills only part of it)."""
    market = _market(slug)
    form = UserTradeForm(request.POST)
    status = 200
    if not form.is_valid():
        note = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in form.errors.items())
        status = 400
    else:
        side, amount = form.cleaned_data["side"], form.cleaned_data["amount"]
        try:
            order = paper_flow.user_trade(market, side, amount)
        except ccxt.BaseError as exc:
            note = f"Not sent: {describe(exc)}"
            status = 422
        else:
            note = trade_note(market, order, amount)
    if request.htmx:
        return render(
            request, "partials/trade_result.html", {"note": note, "ok": status == 200}, status=status
        )
    (messages.success if status == 200 else messages.error)(request, note)
    return redirect("market", slug=slug)


def trade_note(market: Market, order: dict, asked) -> str:
    """"A user bought 0.4 BTC of 0.45 at 64,010.20 USDT on average; 0.05 BTC did not fill"."""
    verb = "bought" if order["side"] == "buy" else "sold"
    filled = order["filled"]
    if not filled:
        return f"Nothing of {plain(asked)} {market.base} filled: that side of the book was empty."
    average = in_asset(order["average"], market.quote)
    if filled == asked:
        return f"A user {verb} {plain(filled)} {market.base} at {average} {market.quote} on average."
    return (
        f"A user {verb} {plain(filled)} {market.base} of {plain(asked)} at {average} "
        f"{market.quote} on average; {plain(asked - filled)} {market.base} did not fill "
        "(the book was not deep enough)."
    )
