"""Seeded, probabilistic faults for a paper venue, configured in the venue's options.

A paper venue fails the way real exchanges do when its `options` say so, for drills, the demo
and the fault-injection tests; bot code never knows it is talking to one:

    {"faults": {"seed": 7, "rates": {"timeout_after_accept": 0.02, "partial": 0.02, ...},
                "outage_calls": 20, "latency_ms": 0}}

Each call that would reach a real exchange over the network draws one number from a generator
seeded by the venue and the seed, so a run in one process is reproducible. Kinds, by call:

- every call: `timeout` (RequestTimeout, nothing done), `rate_limit` (DDoSProtection, as
  binance's HTTP 429), `unavailable` (ExchangeNotAvailable, HTTP 5xx), `outage` (this call and
  the next `outage_calls` fail with ExchangeNotAvailable: the venue is down for a while);
- create_order only: `timeout_after_accept` (the order is executed and kept, then the answer is
  lost as RequestTimeout), `partial` (an IOC or market order fills only part of what the book
  offered), `reject` (a plain ExchangeError, like binance's -1008 "server busy": a class Ballast
  cannot classify), `invalid` (InvalidOrder, a permanent refusal).

`latency_ms` delays every answer of create_order after the order is executed, as a slow
network would: it widens the window in which a worker can die holding an accepted order.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

from bots.venues import ccxt_errors as ccxt

ANY_CALL = ("timeout", "rate_limit", "unavailable", "outage")
ORDER_ONLY = ("timeout_after_accept", "partial", "reject", "invalid")
KINDS = ANY_CALL + ORDER_ONLY


@dataclass(frozen=True)
class FaultPlan:
    seed: int
    rates: dict[str, float]
    outage_calls: int = 20
    latency_ms: int = 0


def parse(venue_name: str, options: dict | None) -> FaultPlan | None:
    """The venue's fault plan, or None; a bad one is a ValueError saying what to fix."""
    config = (options or {}).get("faults")
    if not config:
        return None
    where = f"venue {venue_name!r} options.faults"
    if not isinstance(config, dict):
        raise ValueError(f"{where} must be an object like {{'seed': 7, 'rates': {{...}}}}")
    unknown = set(config) - {"seed", "rates", "outage_calls", "latency_ms"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    rates = config.get("rates") or {}
    bad = set(rates) - set(KINDS)
    if bad:
        raise ValueError(f"{where}.rates: unknown kinds {sorted(bad)}; known: {', '.join(KINDS)}")
    for kind, rate in rates.items():
        if not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError(f"{where}.rates.{kind} must be a probability from 0 to 1, not {rate!r}")
    if sum(rates.values()) > 1:
        raise ValueError(f"{where}.rates add up to {sum(rates.values())}; at most 1")
    numbers = {"seed": config.get("seed", 0), "outage_calls": config.get("outage_calls", 20),
               "latency_ms": config.get("latency_ms", 0)}
    for key, value in numbers.items():
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{where}.{key} must be a whole number of at least 0, not {value!r}")
    return FaultPlan(numbers["seed"], dict(rates), numbers["outage_calls"], numbers["latency_ms"])


@dataclass
class _Dice:
    rng: random.Random
    outage_left: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    drawn: Counter = field(default_factory=Counter)


# One generator per venue and seed in each process: reproducible, and unaffected by how many
# PaperVenue objects the callers create.
_dice: dict[tuple[str, int], _Dice] = {}


def reset() -> None:
    """Start every generator and count afresh."""
    _dice.clear()


def counts() -> Counter:
    """How many calls this process drew for, and how many of each fault, over every venue."""
    total: Counter = Counter()
    for dice in _dice.values():
        total.update(dice.drawn)
    return total


def draw(venue_name: str, plan: FaultPlan, call: str) -> tuple[str, float]:
    """The fault for this call ("" for none) and a second uniform number for its size."""
    key = (venue_name, plan.seed)
    if key not in _dice:
        # Reproducible on purpose: these numbers pick simulated faults, they guard nothing.
        _dice[key] = _Dice(random.Random(f"{venue_name}:{plan.seed}"))  # noqa: S311
    dice = _dice[key]
    with dice.lock:
        dice.drawn["calls"] += 1
        roll, size = dice.rng.random(), dice.rng.random()
        if dice.outage_left > 0:
            dice.outage_left -= 1
            dice.drawn["down"] += 1
            return "outage", size
        kinds = ANY_CALL + (ORDER_ONLY if call == "create_order" else ())
        edge = 0.0
        for kind in kinds:
            edge += plan.rates.get(kind, 0.0)
            if roll < edge:
                if kind == "outage":
                    dice.outage_left = plan.outage_calls
                dice.drawn[kind] += 1
                return kind, size
    return "", size


def error_for(kind: str, venue_name: str, call: str) -> ccxt.BaseError:
    """The exception a real exchange's client would raise for a fault raised before any work."""
    text = f"{venue_name} (paper, injected) {call}"
    return {
        "timeout": ccxt.RequestTimeout(f"{text}: request timed out"),
        "rate_limit": ccxt.DDoSProtection(f"{text}: 429 Too Many Requests"),
        "unavailable": ccxt.ExchangeNotAvailable(f"{text}: 503 Service Unavailable"),
        "outage": ccxt.ExchangeNotAvailable(f"{text}: 502 Bad Gateway (the venue is down)"),
        "reject": ccxt.ExchangeError(
            f'{text}: {{"code":-1008,"msg":"Server is currently overloaded with other requests."}}'
        ),
        "invalid": ccxt.InvalidOrder(f"{text}: order rejected"),
    }[kind]
