"""The public simulation widget's runs: stored, stepped and shown. This is the part of /demo that
costs CPU, and it runs in the `demo` queue's Celery worker (dashboard/simulation/tasks.py:demo_request), never in
Daphne, so that visitors playing the demo cannot slow the desk (dashboard.simulation.demo_views has the views).

Each visitor's run is pickled in Redis through Django's cache, under a random id kept in their
Django session, and expires after DEMO_TTL_SECONDS without a request. A lock per run keeps two
tabs from overwriting each other. Bad input is refused with the reason and leaves the run as it
was.
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
from django.template.loader import render_to_string
from django.urls import reverse

from bots.engine.figures import plain, whole_number
from bots.engine.simulation.demo import BTC, HEDGE, MM, USDT, Simulation
from bots.engine.simulation.sim_inputs import (
    FIELDS,
    InvalidInput,
    actions_text,
    parse_action,
    parse_actions,
    settings_query,
)
from bots.platform.locks import client

DEMO_TTL_SECONDS = 30 * 60
LIVE_KEY = "ballast:demo:live"
CHAINS_SHOWN = 12
EXPIRED = "This run has expired: reload the page to start a new one."
LOCKED = "Another tab is stepping this run; try again."


class Locked(Exception):
    pass


class Expired(Exception):
    pass


# --- storage -------------------------------------------------------------------------------


def state_key(run_id: str) -> str:
    return f"demo:run:{run_id}"


def load(run_id: str) -> Simulation | None:
    blob = cache.get(state_key(run_id))
    return None if blob is None else pickle.loads(blob)  # noqa: S301 - written by save() below


def save(run_id: str, sim: Simulation) -> None:
    cache.set(state_key(run_id), pickle.dumps(sim, pickle.HIGHEST_PROTOCOL), DEMO_TTL_SECONDS)
    client().zadd(LIVE_KEY, {run_id: time.time()})


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


# --- what the page shows ---------------------------------------------------------------------


def share_url(base: str, sim: Simulation) -> str:
    query = {"scenario": sim.scenario.name, "seed": sim.seed, **settings_query(sim.settings)}
    if sim.actions:
        query["actions"] = actions_text(sim.actions)
    return base.rstrip("/") + reverse("demo") + "?" + urlencode(query)


def _bands(sim: Simulation) -> dict:
    return {
        f"{account}_{asset}": [plain(b.minimum), plain(b.maximum)]
        for (account, asset), b in sim.bands().items()
    }


def state(sim: Simulation, since: int | None, base: str, csrf_token: str) -> dict:
    """What the page needs after a step: the panel's HTML, the bars and the new chart points.

    `base` is the site's address for the share link, `csrf_token` the visitor's, for the
    panel's form: the worker has no request to take them from."""
    context = page_context(sim, base)
    panel = render_to_string("partials/demo_panel.html", {**context, "csrf_token": csrf_token})
    return {
        "panel": panel,
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


def page_context(sim: Simulation, base: str) -> dict:
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
        "intervention": sim.intervention.view() if sim.intervention else None,
        "share": share_url(base, sim),
        "sides": [("Asks (users buy here)", sim.sides.get("sell", {})),
                  ("Bids (users sell here)", sim.sides.get("buy", {}))],
    }


def new_run(query) -> Simulation:
    """A run from a link's or the reset form's scenario, seed, settings and actions."""
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


# --- the worker's side of a request ------------------------------------------------------------


def answer(job: dict) -> dict | None:
    """Carry out one request of a visitor: "new" (a run from `query`, replacing theirs), "act"
    (one `action` token on their run) or "reset" (a new run that answers with its state).

    Returns {"status": HTTP status, "body": JSON-able}; None for a job whose `deadline` (epoch
    seconds) has passed, which is dropped untouched: its visitor was already told it timed out.
    """
    if time.time() > job["deadline"]:
        return None
    run_id = job["run_id"]
    try:
        with locked(run_id):
            if job["kind"] == "act":
                sim = load(run_id)
                if sim is None:
                    raise Expired
                sim.act(parse_action(job["action"]))  # raises before it changes anything
            else:
                sim = new_run(job["query"])
            sim.suggestion()  # planned once, and kept with the state until a balance moves
            save(run_id, sim)
    except InvalidInput as exc:
        return {"status": 400, "body": {"error": str(exc), "problems": exc.problems}}
    except Expired:
        return {"status": 410, "body": {"error": EXPIRED, "problems": {"demo": EXPIRED}}}
    except Locked:
        return {"status": 409, "body": {"error": LOCKED, "problems": {"demo": LOCKED}}}
    if job["kind"] == "new":
        return {"status": 200, "body": {}}
    body = state(sim, job.get("since"), job["base"], job["csrf_token"])
    if job["kind"] == "reset":
        body["reload"] = reverse("demo")
    return {"status": 200, "body": body}
