"""The HTTP API the exchange's front end calls to ask for and accept OTC quotes.

Every call but the schema carries `Authorization: Bearer <token>` (a token an admin made on the
broker page; bots/otc/clients.py); each client is limited to its requests per minute (429 with
Retry-After beyond). Answers are JSON, every figure a decimal string; an error is
`{"error": {"code": ..., "message": ...}}` with a status that says what to do, and changes
nothing. The schema is dashboard/otc/openapi.json, served at /api/otc/v1/openapi.json.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from functools import wraps
from pathlib import Path

import redis
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from bots.models import BrokerQuote, Market
from bots.otc import clients, quotes
from bots.platform.text import problem

SCHEMA = Path(__file__).with_name("openapi.json")
MAX_BODY = 4096


def error(status: int, code: str, message: str, **headers) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def quote_json(quote: BrokerQuote) -> dict:
    return {
        "id": str(quote.ref),
        "market": quote.market.slug,
        "symbol": quote.market.symbol,
        "user": quote.user_ref,
        "side": quote.side,
        "amount": _plain(quote.amount),
        "price": _plain(quote.price),
        "total": _plain(quote.price * quote.amount),
        "state": quote.state_at(timezone.now()),
        "expires_at": quote.expires_at.isoformat().replace("+00:00", "Z"),
        "reason": quote.reason,
    }


def api(method: str):
    """The method, the token, then the rate limit, then the view; any refusal as a JSON error."""
    return lambda view: csrf_exempt(_guarded(view, method))


def _guarded(view, method: str):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method != method:
            return error(405, "method_not_allowed", f"use {method}", Allow=method)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error(401, "unauthenticated", "send the client's token as 'Authorization: Bearer <token>'",
                         WWW_Authenticate='Bearer realm="otc"')
        client = clients.authenticate(token.strip())
        if client is None:
            return error(401, "bad_token", "the token is unknown or revoked", WWW_Authenticate='Bearer realm="otc"')
        try:
            wait = clients.over_rate(client)
        except redis.RedisError:
            return error(503, "unavailable", "the rate limiter cannot be reached: try again shortly", Retry_After="5")
        if wait is not None:
            return error(429, "rate_limited",
                         f"over this client's limit of {client.requests_per_minute} requests a minute: "
                         f"retry in {wait} s", Retry_After=str(wait))
        request.api_client = client
        try:
            return view(request, *args, **kwargs)
        except quotes.QuoteRefused as refused:
            return error(refused.status, refused.code, refused.message)

    return wrapped


def _body(request) -> dict | JsonResponse:
    if len(request.body) > MAX_BODY:
        return error(413, "too_large", f"the body is over {MAX_BODY} bytes")
    try:
        # Numbers as Decimals, never through float.
        body = json.loads(request.body or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        return error(400, "bad_json", "the body is not JSON")
    if not isinstance(body, dict):
        return error(400, "bad_json", "the body must be a JSON object")
    return body


def _field(body: dict, name: str, limit: int = 100) -> str | JsonResponse:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        return error(400, f"bad_{name}", f"'{name}' is required, as a string")
    if len(value) > limit:
        return error(400, f"bad_{name}", f"'{name}' must be at most {limit} characters")
    why = problem(value)
    if why:
        return error(400, f"bad_{name}", f"'{name}' {why}")
    return value.strip()


@api("GET")
def markets(request):
    """The broker markets a front end can quote, with their limits."""
    rows = []
    for market in quotes.broker_markets().filter(enabled=True).order_by("slug"):
        terms = quotes.broker_settings(market)
        rows.append({
            "market": market.slug, "symbol": market.symbol,
            "max_amount": _plain(terms.max_amount), "daily_limit": _plain(terms.daily_limit),
            "quote_seconds": terms.quote_seconds,
            "open": market.state not in Market.STOPPED,
        })
    return JsonResponse({"markets": rows})


@api("POST")
def ask(request):
    body = _body(request)
    if isinstance(body, JsonResponse):
        return body
    unknown = sorted(set(body) - {"market", "side", "amount", "user"})
    if unknown:
        return error(400, "bad_json", f"unknown field(s): {', '.join(unknown)}")
    slug, side, user = _field(body, "market"), _field(body, "side", 4), _field(body, "user")
    for value in (slug, side, user):
        if isinstance(value, JsonResponse):
            return value
    raw = body.get("amount")
    try:
        if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
            raise InvalidOperation
        amount = Decimal(raw)
        if not amount.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        return error(400, "bad_amount", "'amount' is required, as a decimal string such as \"0.25\"")
    market = quotes.broker_markets().filter(slug=slug).first()
    if market is None:
        return error(404, "no_market", f"no broker market '{slug}'")
    quote = quotes.ask(market, request.api_client, user, side, amount)
    return JsonResponse(quote_json(quote), status=201)


@api("GET")
def quote_state(request, ref):
    return JsonResponse(quote_json(quotes.find(request.api_client, ref)))


@api("POST")
def accept(request, ref):
    return JsonResponse(quote_json(quotes.accept(request.api_client, ref)))


@require_GET
def schema(request):
    """The OpenAPI document (public: it holds no secret)."""
    return HttpResponse(SCHEMA.read_bytes(), content_type="application/json")
