"""The public simulation widget at /demo: a visitor plays users trading against the MM bot and
watches Ballast's real engine answer (bots.engine.simulation), on paper, in a run of their own.

No login. Each visitor's run is pickled in Redis through Django's cache, under a random id kept
in their Django session, and expires after DEMO_TTL_SECONDS without a request. Live runs are
counted in Redis (a sorted set of ids by last use); past DEMO_MAX_SESSIONS a new visitor is
told the demo is busy. One request simulates at most MAX_PLAY_SECONDS seconds, and a lock per
run keeps two tabs from overwriting each other. Bad input is answered 400 with the reason and
leaves the run as it was.
"""

from __future__ import annotations

import pickle  # noqa: S403 - only our own objects, from our own Redis
import secrets
import time
from contextlib import contextmanager
from decimal import Decimal
from urllib.parse import urlencode

import redis
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from bots.engine import scenarios
from bots.engine.figures import whole_number
from bots.engine.sim_inputs import (
    FIELDS,
    MAX_PLAY_SECONDS,
    MAX_SHOCK_PCT,
    MAX_USER_SIZE,
    InvalidInput,
    actions_text,
    parse_action,
    parse_actions,
    plain,
    settings_query,
)
from bots.engine.simulation import BTC, HEDGE, MM, USDT, Simulation
from bots.locks import client

DEMO_TTL_SECONDS = 30 * 60
DEMO_MAX_SESSIONS = 300
LIVE_KEY = "ballast:demo:live"
SESSION_KEY = "demo_id"
SIZE_PRESETS = ("0.01", "0.1", "0.5", "1")
CHAINS_SHOWN = 12
EXPIRED = "This run has expired: reload the page to start a new one."
BUSY = "The demo is busy: too many visitors are running it right now. Try again in a minute."


class Busy(Exception):
    pass


class Locked(Exception):
    pass


class Expired(Exception):
    pass


# --- storage -------------------------------------------------------------------------------


def _state_key(run_id: str) -> str:
    return f"demo:run:{run_id}"


def load(request) -> tuple[str | None, Simulation | None]:
    run_id = request.session.get(SESSION_KEY)
    if not run_id:
        return None, None
    blob = cache.get(_state_key(run_id))
    if blob is None:
        return run_id, None
    return run_id, pickle.loads(blob)  # noqa: S301 - written by save() below


def save(run_id: str, sim: Simulation) -> None:
    cache.set(_state_key(run_id), pickle.dumps(sim, pickle.HIGHEST_PROTOCOL), DEMO_TTL_SECONDS)
    client().zadd(LIVE_KEY, {run_id: time.time()})


def live_runs() -> int:
    r = client()
    r.zremrangebyscore(LIVE_KEY, "-inf", time.time() - DEMO_TTL_SECONDS)
    return r.zcard(LIVE_KEY)


def claim(request) -> str:
    """The visitor's run id; a new one only while fewer than DEMO_MAX_SESSIONS runs are live."""
    run_id = request.session.get(SESSION_KEY)
    if run_id and client().zscore(LIVE_KEY, run_id) is not None:
        return run_id
    if live_runs() >= DEMO_MAX_SESSIONS:
        raise Busy
    run_id = secrets.token_urlsafe(16)
    client().zadd(LIVE_KEY, {run_id: time.time()})  # the slot is taken from now on
    request.session[SESSION_KEY] = run_id
    if not request.user.is_authenticated:
        # A visitor's session lives as long as their run, not the two weeks of a log-in; the
        # hourly clean-up (bots.tasks.clear_expired_sessions) removes it after that.
        request.session.set_expiry(DEMO_TTL_SECONDS)
    return run_id


@contextmanager
def locked(run_id: str):
    lock = client().lock(f"ballast:demo:lock:{run_id}", timeout=10, blocking_timeout=3)
    if not lock.acquire():
        raise Locked
    try:
        yield
    finally:
        try:
            lock.release()
        except redis.exceptions.LockNotOwnedError:
            pass


# --- answers ---------------------------------------------------------------------------------


def share_url(request, sim: Simulation) -> str:
    query = {"scenario": sim.scenario.name, "seed": sim.seed, **settings_query(sim.settings)}
    if sim.actions:
        query["actions"] = actions_text(sim.actions)
    return request.build_absolute_uri(reverse("demo") + "?" + urlencode(query))


def _bands(sim: Simulation) -> dict:
    return {
        f"{account}_{asset}": [plain(b.minimum), plain(b.maximum)]
        for (account, asset), b in sim.bands().items()
    }


def state(request, sim: Simulation, since: int | None = None) -> dict:
    """What the page needs after a step: the panel's HTML, the bars and the new chart points."""
    context = page_context(request, sim)
    return {
        "panel": render_to_string("partials/demo_panel.html", context, request=request),
        "bars": {a: {x: str(sim.holding(a, x)) for x in (BTC, USDT)} for a in (MM, HEDGE)},
        "bands": _bands(sim),
        "series": sim.series_since(since if since is not None else 0),
        "series_count": sim.series_count,
        "reset_series": since is None or since > sim.series_count,
        "second": sim.second,
        "suggestion": bool(context["suggestion"]),
        "share": context["share"],
    }


def money(text: str | Decimal | None, asset: str) -> str:
    if text is None:
        return ""
    value = Decimal(text)
    if asset == USDT:
        return f"{value.quantize(Decimal('0.01')):,}"
    return plain(value.quantize(Decimal("0.00001")))


def _chain_view(chain: dict) -> dict:
    """One user trade's chain reaction, step by step, in words."""
    user_verb = chain["side"] if chain["who"] == "you" else chain["side"] + "s"
    mm_verb = "sells" if chain["mm_side"] == "sell" else "buys"
    who = {"you": "You, as a user,", "users": "A user", "whale": "The whale",
           "arbitrageur": "The arbitrageur"}.get(chain["who"], chain["who"])
    steps = [f"{who} {user_verb} {chain['amount']} BTC at market on the exchange"]
    fills = chain["fills"]
    if fills:
        prices = ", ".join(f"{f['amount']} at {money(f['price'], USDT)}" for f in fills)
        steps.append(f"MM bot {mm_verb} {chain['filled']} BTC: {prices}")
    if chain["why"]:
        steps.append(chain["why"][0].upper() + chain["why"][1:])
    hedge = chain["hedge"]
    hedge_state = ""
    if hedge:
        verb = "buys" if hedge["side"] == "buy" else "sells"
        text = f"Hedging bot {verb} {hedge['amount']} BTC on the external exchange"
        if hedge.get("price"):
            text += f" at {money(hedge['price'], USDT)}"
            if hedge["state"] != "filled":
                text += f" ({hedge.get('filled', '0')} so far)"
        if hedge["why"]:
            text += f": {hedge['why']}"
        steps.append(text)
        hedge_state = hedge["state"]
    after = chain["after"]
    if after:
        steps.append(
            f"After: MM account {money(after[MM][BTC], BTC)} BTC / {money(after[MM][USDT], USDT)} "
            f"USDT; hedge account {money(after[HEDGE][BTC], BTC)} BTC / "
            f"{money(after[HEDGE][USDT], USDT)} USDT"
        )
    return {
        "n": chain["n"], "t": chain["t"], "side": chain["side"], "steps": steps,
        "hedge_state": hedge_state,
        "edge": money(chain["edge"], USDT) if chain["edge"] is not None else None,
        "edge_negative": chain["edge"] is not None and Decimal(chain["edge"]) < 0,
        "refused": chain["filled"] == "0",
    }


def _balances_view(sim: Simulation) -> list[dict]:
    bands = sim.bands()
    rows = []
    for account, label in ((MM, "MM bot (own exchange)"), (HEDGE, "Hedging bot (external)")):
        cells = []
        for asset in (BTC, USDT):
            amount = sim.holding(account, asset)
            band = bands.get((account, asset))
            status = band.status(amount) if band else "inside"
            cells.append({
                "amount": money(amount, asset), "status": status,
                "band": f"{money(band.minimum, asset)} to {money(band.maximum, asset)}" if band else "none",
            })
        rows.append({"label": label, "cells": cells})
    return rows


def page_context(request, sim: Simulation) -> dict:
    chains = [_chain_view(c) for c in list(sim.chains)[-CHAINS_SHOWN:][::-1]]
    summary = sim.summary()
    return {
        "edge": money(summary["edge_kept_usdt"], USDT),
        "mid": money(summary["mid"], USDT),
        "exposure": plain(Decimal(summary["exposure_btc"]).quantize(Decimal("0.00001"))),
        "balances": _balances_view(sim),
        "sim": sim,
        "summary": summary,
        "chains": chains,
        "log": list(sim.log)[-8:][::-1],
        "suggestion": sim.suggestion(),
        "share": share_url(request, sim),
        "sides": [("Asks (users buy here)", sim.sides.get("sell", {})),
                  ("Bids (users sell here)", sim.sides.get("buy", {}))],
    }


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "") or request.htmx


def _refused(request, problems: dict[str, str], status: int = 400) -> HttpResponse:
    message = "; ".join(problems.values())
    if _wants_json(request):
        return JsonResponse({"error": message, "problems": problems}, status=status)
    return render(request, "demo_refused.html", {"message": message}, status=status)


def _busy(request) -> HttpResponse:
    response = _refused(request, {"demo": BUSY}, status=503)
    response["Retry-After"] = "60"
    return response


def _locked(request) -> HttpResponse:
    return _refused(request, {"demo": "Another tab is stepping this run; try again."}, status=409)


def _new_run(query) -> Simulation:
    scenario = query.get("scenario") or "steady"
    seed_text = query.get("seed")
    if seed_text in (None, ""):
        seed = secrets.randbelow(1_000_000)
    else:
        try:
            seed = whole_number(seed_text, max_digits=9)
        except ValueError:
            raise InvalidInput(
                {"seed": "the seed must be a whole number 0 to 999999999, in the digits 0-9"}
            ) from None
    settings = {f.name: query[f.name] for f in FIELDS if query.get(f.name) not in (None, "")}
    actions = parse_actions(query.get("actions", ""))
    sim = Simulation(scenario, seed, settings)
    for action in actions:
        sim.act(action)
    return sim


# --- views -----------------------------------------------------------------------------------


@require_GET
def demo_page(request):
    """The widget. A query string (scenario, seed, settings, actions) starts or replays that run."""
    starts = any(k in request.GET for k in ("scenario", "seed", "actions", *(f.name for f in FIELDS)))
    try:
        run_id = claim(request)
    except Busy:
        return _busy(request)
    sim = None
    if not starts:
        _, sim = load(request)
    try:
        with locked(run_id):
            if sim is None:
                sim = _new_run(request.GET if starts else {})
            save(run_id, sim)
    except InvalidInput as exc:
        return _refused(request, exc.problems)
    except Locked:
        return _locked(request)
    context = page_context(request, sim)
    context.update({
        "scenarios": scenarios.SCENARIOS.values(),
        "fields": [(f, plain(sim.settings[f.name])) for f in FIELDS],
        "presets": SIZE_PRESETS,
        "max_play": MAX_PLAY_SECONDS,
        "max_size": MAX_USER_SIZE,
        "max_shock": MAX_SHOCK_PCT,
        "initial": state(request, sim),
    })
    return render(request, "demo.html", context)


def _action_from(post) -> tuple:
    kind = post.get("action", "")
    if kind in ("buy", "sell"):
        return parse_action(("b" if kind == "buy" else "s") + post.get("size", ""))
    if kind == "shock":
        return parse_action("k" + post.get("pct", ""))
    if kind == "play":
        return parse_action("p" + post.get("seconds", ""))
    if kind == "apply":
        return ("apply",)
    if kind == "flow":
        return parse_action(f"f{post.get('rate', '')}/{post.get('buy', '')}")
    raise InvalidInput({"action": f"unknown action {kind[:20]!r}"})


@require_POST
def demo_act(request):
    """One action on the visitor's run: a user trade, a shock, seconds played, apply, flow."""
    run_id = request.session.get(SESSION_KEY)
    try:
        # Everything posted is read before the run is touched: a bad field changes nothing.
        since = _since(request.POST.get("since", ""))
        action = _action_from(request.POST)
        if not run_id:
            raise Expired
        with locked(run_id):
            _, sim = load(request)
            if sim is None:
                raise Expired
            sim.act(action)  # raises before it changes anything
            sim.suggestion()  # planned once, and kept with the state until a balance moves
            save(run_id, sim)
    except InvalidInput as exc:
        return _refused(request, exc.problems)
    except Expired:
        return _refused(request, {"demo": EXPIRED}, status=410)
    except Locked:
        return _locked(request)
    if not _wants_json(request):
        return redirect("demo")
    return JsonResponse(state(request, sim, since))


def _since(text: str) -> int | None:
    """How many chart points the page already has; none (blank) asks for every point."""
    if text == "":
        return None
    try:
        return whole_number(text, max_digits=9)
    except ValueError:
        raise InvalidInput(
            {"since": "since must be a count of chart points, a whole number in the digits 0-9"}
        ) from None


@require_POST
def demo_reset(request):
    """A new run from the posted scenario, seed and settings."""
    try:
        run_id = claim(request)
    except Busy:
        return _busy(request)
    try:
        sim = _new_run({k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken" and k != "actions"})
        with locked(run_id):
            save(run_id, sim)
    except InvalidInput as exc:
        return _refused(request, exc.problems)
    except Locked:
        return _locked(request)
    if not _wants_json(request):
        return redirect("demo")
    return JsonResponse({**state(request, sim), "reload": reverse("demo")})

