"""Every route and websocket of the desk, for every persona: anonymous, viewer, operator, admin.

The tables below classify each URL pattern by the role it needs. A route added without a line
here fails test_every_route_is_classified, so nothing new goes out unguarded by accident.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from ballast.asgi import application
from ballast.routing import websocket_urlpatterns
from bots.desk.alerts import raise_alert
from bots.desk.roles import ADMIN, OPERATOR, RANKS, VIEWER
from bots.models import Alert
from tests.support.sockets import HOST, ORIGIN, session_cookie

PUBLIC = None
PERSONAS = ["anonymous", VIEWER, OPERATOR, ADMIN]


def _market(world):
    return [world["market"].slug]


def _alert(world):
    return [world["alert"].pk]


def _missing(world):
    # The role is checked before the record is looked up: a pk that matches nothing still shows
    # who is let in (404) and who is refused (403, or sent to log in).
    return [999_999]


# name: (method, the least role that may use it, its URL arguments from the world fixture)
ROUTES = {
    "home": ("GET", VIEWER, None),
    "market": ("GET", VIEWER, _market),
    "user-trade": ("POST", OPERATOR, _market),
    "overview": ("GET", VIEWER, None),
    "alerts": ("GET", VIEWER, None),
    "alert-acknowledge": ("POST", OPERATOR, _alert),
    "alert-resolve": ("POST", OPERATOR, _alert),
    "targets": ("GET", VIEWER, None),
    "targets-edit": ("GET", ADMIN, _market),
    "targets-save": ("POST", ADMIN, _market),
    "morning-check": ("GET", VIEWER, None),
    "morning-check-run": ("POST", OPERATOR, None),
    "audit": ("GET", VIEWER, None),
    "audit-csv": ("GET", VIEWER, None),
    "export": ("GET", VIEWER, lambda world: ["fills"]),
    "login": ("GET", PUBLIC, None),
    "logout": ("POST", PUBLIC, None),
    "two-factor": ("GET", VIEWER, None),
    # Market making (issue 3): settings are seen by all and saved by admins; commands operators.
    "market-settings": ("GET", VIEWER, _market),
    "market-settings-save": ("POST", ADMIN, _market),
    "market-command": ("POST", OPERATOR, lambda world: [world["market"].slug, "no-such-command"]),
    "desk-command": ("POST", OPERATOR, lambda world: ["no-such-command"]),
    # Hedging (issue 4): everyone sees the hedges, operators retry, record and write off.
    "hedges": ("GET", VIEWER, _market),
    "hedge-retry": ("POST", OPERATOR, lambda world: [world["market"].slug, 999_999]),
    "hedge-manual": ("POST", OPERATOR, lambda world: [world["market"].slug, 999_999]),
    "hedge-write-off": ("POST", OPERATOR, lambda world: [world["market"].slug, 999_999]),
    # Price-action interventions (issue 16): everyone sees them, operators propose and decide,
    # admins change the detectors' settings.
    "interventions": ("GET", VIEWER, _market),
    "intervention-propose": ("POST", OPERATOR, _market),
    "intervention-settings": ("POST", ADMIN, _market),
    "intervention-approve": ("POST", OPERATOR, lambda world: [world["market"].slug, 999_999]),
    "intervention-reject": ("POST", OPERATOR, lambda world: [world["market"].slug, 999_999]),
    "intervention-cancel": ("POST", OPERATOR, lambda world: [world["market"].slug, 999_999]),
    "intervention-pause": ("POST", OPERATOR, lambda world: [world["market"].slug, 999_999]),
    "intervention-resume": ("POST", OPERATOR, lambda world: [world["market"].slug, 999_999]),
    # Rebalancing (issue 5): operators decide transfers, admins set bands, policies, whitelists.
    "rebalance": ("GET", VIEWER, None),
    "rebalance-propose": ("POST", OPERATOR, None),
    "rebalance-plan": ("POST", OPERATOR, None),
    "transfer-approve": ("POST", OPERATOR, _missing),
    "transfer-reject": ("POST", OPERATOR, _missing),
    "transfer-cancel": ("POST", OPERATOR, _missing),
    "transfer-sent": ("POST", OPERATOR, _missing),
    "transfer-execute": ("POST", OPERATOR, _missing),
    "transfer-confirm": ("POST", OPERATOR, _missing),
    "transfer-fail": ("POST", OPERATOR, _missing),
    "rebalance-settings": ("GET", VIEWER, None),
    "rebalance-band": ("POST", ADMIN, None),
    "rebalance-band-delete": ("POST", ADMIN, _missing),
    "rebalance-policy": ("POST", ADMIN, None),
    "rebalance-network": ("POST", ADMIN, None),
    "network-terms-read": ("POST", ADMIN, None),
    "network-terms-accept": ("POST", ADMIN, _missing),
    "network-terms-dismiss": ("POST", ADMIN, _missing),
    "rebalance-whitelist": ("POST", ADMIN, None),
    "rebalance-whitelist-confirm": ("POST", ADMIN, _missing),
    "rebalance-whitelist-remove": ("POST", ADMIN, _missing),
    # Four-eyes (issue 14): admins propose, confirm, reject and cancel changes.
    "changes": ("GET", ADMIN, None),
    "changes-role": ("POST", ADMIN, None),
    "change-confirm": ("POST", ADMIN, _missing),
    "change-reject": ("POST", ADMIN, _missing),
    "change-cancel": ("POST", ADMIN, _missing),
    # Connecting exchanges (issue 14): venues, accounts, keys, connection tests and markets are
    # admins' alone.
    "onboarding-venues": ("GET", ADMIN, None),
    "onboarding-venue-add": ("POST", ADMIN, None),
    "onboarding-venue-edit": ("POST", ADMIN, _missing),
    "onboarding-accounts": ("GET", ADMIN, None),
    "onboarding-account-add": ("POST", ADMIN, None),
    "onboarding-keys": ("POST", ADMIN, lambda world: [999_999, "trading"]),
    "onboarding-key-remove": ("POST", ADMIN, lambda world: [999_999, "trading"]),
    "onboarding-test": ("POST", ADMIN, _missing),
    "onboarding-markets": ("GET", ADMIN, None),
    "onboarding-market-add": ("POST", ADMIN, None),
    "onboarding-enable": ("POST", ADMIN, lambda world: ["no-such-market"]),
    # Liquidity sizing (issue 7): everyone sees the runs, operators start them.
    "sizing": ("GET", VIEWER, None),
    "sizing-start": ("POST", OPERATOR, _market),
    "sizing-run": ("GET", VIEWER, _missing),
    # OTC broker markets (issue 16): everyone sees the quotes; operators try one by hand on a
    # paper desk; admins set pricing, limits and the inventory account, add broker markets, and
    # make and revoke the API clients' tokens.
    "otc": ("GET", VIEWER, None),
    "otc-market": ("GET", VIEWER, lambda world: ["no-such-market"]),
    "otc-try": ("POST", OPERATOR, lambda world: ["no-such-market"]),
    "otc-settings": ("POST", ADMIN, lambda world: ["no-such-market"]),
    "otc-market-add": ("POST", ADMIN, None),
    "otc-client-add": ("POST", ADMIN, None),
    "otc-client-revoke": ("POST", ADMIN, _missing),
    # The public simulation widget (issue 7): no login, each visitor in a run of their own.
    "demo": ("GET", PUBLIC, None),
    "demo-act": ("POST", PUBLIC, None),
    "demo-reset": ("POST", PUBLIC, None),
}
# Django's admin is its own include; test_admin_is_for_admins covers its pages.
SKIPPED_NAMESPACES = {"admin"}
# Not a role's: /health/ answers everyone (503 while a part is down, as in this test's world) and
# /metrics answers a token or an allowed address; tests/observability covers both.
NOT_BY_ROLE = {"health", "metrics"}
# The OTC API answers a client's token, not a person's role (tests/otc/test_otc_api.py); its
# schema is public.
NOT_BY_ROLE |= {"otc-api-schema", "otc-api-markets", "otc-api-ask", "otc-api-quote", "otc-api-accept"}

LISTENS_ONLY = {"error": "this socket takes no messages"}


def _command_needs_operator(persona: str, answer: dict) -> bool:
    """The market page's socket takes operator commands (issue 3): a viewer's is refused."""
    refused = answer.get("reply", {}).get("error") == "This needs the operator role."
    return refused == (persona == VIEWER)


# route: (the least role that may connect, its path, whether a command's answer is right)
WEBSOCKETS = {
    "ws/markets/<slug:slug>/": (
        VIEWER, lambda world: f"/ws/markets/{world['market'].slug}/", _command_needs_operator
    ),
    "ws/overview/": (VIEWER, lambda world: "/ws/overview/", lambda persona, answer: answer == LISTENS_ONLY),
    "ws/rebalance/": (VIEWER, lambda world: "/ws/rebalance/", lambda persona, answer: answer == LISTENS_ONLY),
    "ws/sizing/": (VIEWER, lambda world: "/ws/sizing/", lambda persona, answer: answer == LISTENS_ONLY),
}


def _patterns(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace not in SKIPPED_NAMESPACES:
                yield from _patterns(pattern.url_patterns)
        else:
            yield pattern.name or f"(unnamed) {pattern.pattern}"


def test_every_route_is_classified():
    found = set(_patterns(get_resolver().url_patterns))
    assert found - set(ROUTES) - NOT_BY_ROLE == set(), "new routes: say which role each needs in ROUTES"
    assert set(ROUTES) - found == set(), "ROUTES names routes that no longer exist"


def test_every_websocket_is_classified():
    assert {str(p.pattern) for p in websocket_urlpatterns} == set(WEBSOCKETS)


@pytest.fixture
def world(demo_market):
    alert = raise_alert(Alert.SPREAD_OUT_OF_BAND, demo_market, "Spread 60 bps", "/markets/btc-usdt/")
    return {"market": demo_market, "alert": alert}


def _user(persona, request):
    fixture = {VIEWER: "viewer", OPERATOR: "operator", ADMIN: "admin_user"}.get(persona)
    return request.getfixturevalue(fixture) if fixture else None


def _allowed(persona: str, needed: str | None) -> bool:
    if needed is PUBLIC:
        return True
    return persona != "anonymous" and RANKS[persona] >= RANKS[needed]


def _verdict(response, persona: str, needed) -> str:
    """"" when the response is what the persona should get, else what was wrong."""
    sent_to_log_in = response.status_code == 302 and response["Location"].startswith(reverse("login") + "?")
    if _allowed(persona, needed):
        if response.status_code == 403 or sent_to_log_in or response.status_code >= 500:
            return f"refused or broken ({response.status_code})"
    elif persona == "anonymous":
        if not sent_to_log_in:
            return f"not sent to log in ({response.status_code} {response.get('Location', '')})"
    elif response.status_code != 403:
        return f"let in ({response.status_code})"
    return ""


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_each_route_lets_in_exactly_the_roles_it_should(world, request, name):
    """Every persona, as a page request and as an htmx one, in one database (setting up the
    demo market per persona would take minutes)."""
    method, needed, arguments = ROUTES[name]
    url = reverse(name, args=arguments(world) if arguments else None)
    if name.startswith("demo"):
        # The demo's steps run in its own worker; every persona asks from one address.
        request.getfixturevalue("demo_worker")
        settings = request.getfixturevalue("settings")
        settings.DEMO_RUNS_PER_MINUTE = settings.DEMO_STEPS_PER_MINUTE = 0
    wrong = []
    for persona in PERSONAS:
        user = _user(persona, request)
        for htmx in (False, True):
            client = Client()
            if user is not None:
                client.force_login(user)
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            response = client.get(url, **headers) if method == "GET" else client.post(url, {}, **headers)
            verdict = _verdict(response, persona, needed)
            if verdict:
                wrong.append(f"{persona}{' (htmx)' if htmx else ''}: {verdict}")
    assert wrong == [], f"{method} {url} needs {needed or 'nobody'}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("route", sorted(WEBSOCKETS))
async def test_each_websocket_lets_in_exactly_the_roles_it_should_and_checks_their_messages(
    world, request, route, persona
):
    needed, path, answer_is_right = WEBSOCKETS[route]
    user = await sync_to_async(_user)(persona, request)
    headers = [ORIGIN, HOST]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    communicator = WebsocketCommunicator(application, path(world), headers=headers)

    connected, _ = await communicator.connect(timeout=10)

    assert connected == _allowed(persona, needed)
    if connected:
        await communicator.send_to(text_data='{"command": "pause", "reason": "roles matrix"}')
        answer = await communicator.receive_json_from(timeout=5)
        assert answer_is_right(persona, answer), answer
        await communicator.disconnect()
