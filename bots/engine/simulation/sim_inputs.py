"""What a visitor of the simulation may set and do, validated: the run's settings and its
action list, both as plain strings so that a URL can carry them and replay the same run.

Settings are the few a sales conversation turns on: the MM bot's spread and floor buffer, the
hedge venue's taker fee, the starting balances of each bot (the depth of its pools), the width
of the rebalance bands, and the random users' rate, buy share and mean size. Actions are what
the visitor did, in order: a user buy or sell, a price shock, seconds played, a transfer
applied, a change of the users' flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from bots.engine.figures import plain, typed_decimal, whole_number

D = Decimal

# A shared link carries the action list; a run replays it in one request.
MAX_ACTIONS = 400
MAX_RUN_SECONDS = 1200
MAX_PLAY_SECONDS = 120  # per action, and so per request
MAX_USER_SIZE = D("20")
MAX_SHOCK_PCT = D("20")


class InvalidInput(ValueError):
    """Input the simulation refuses; `problems` maps a field to a message a visitor can act on."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    default: Decimal
    minimum: Decimal
    maximum: Decimal
    unit: str
    help: str


FIELDS: tuple[Field, ...] = (
    Field("spread", "MM spread", D("15"), D("0"), D("500"), "bps",
          "Distance of the MM bot's best bid and best ask from the hedge venue's mid"),
    Field("buffer", "Floor buffer", D("2"), D("0"), D("200"), "bps",
          "Edge every quote keeps after its hedge and both venues' fees"),
    Field("fee", "Hedge venue fee", D("10"), D("0"), D("100"), "bps",
          "Taker fee the hedging bot pays on the external exchange"),
    Field("mm_btc", "MM bot BTC", D("2"), D("0"), D("1000"), "BTC", "Starting BTC of the MM account"),
    Field("mm_usdt", "MM bot USDT", D("130000"), D("0"), D("100000000"), "USDT",
          "Starting USDT of the MM account"),
    Field("hedge_btc", "Hedging bot BTC", D("2"), D("0"), D("1000"), "BTC",
          "Starting BTC of the hedge account"),
    Field("hedge_usdt", "Hedging bot USDT", D("130000"), D("0"), D("100000000"), "USDT",
          "Starting USDT of the hedge account"),
    Field("band", "Rebalance band", D("50"), D("5"), D("95"), "%",
          "Each account's band per asset: its starting balance plus or minus this share"),
    Field("rate", "Users' rate", D("12"), D("0"), D("300"), "trades/min",
          "How many random users trade per minute"),
    Field("buy", "Users buying", D("50"), D("0"), D("100"), "%", "Share of random users who buy"),
    Field("size", "Users' mean size", D("0.05"), D("0.001"), D("5"), "BTC",
          "Mean size of a random user's order (exponentially distributed)"),
)
FIELDS_BY_NAME = {f.name: f for f in FIELDS}
DEFAULTS = {f.name: f.default for f in FIELDS}


def number(raw: object, label: str) -> Decimal:
    """A Decimal as given, or one typed in the digits 0-9 (Decimal() alone would also take
    "٣", "1_0" or "1e9")."""
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise ValueError(f"{label} must be a finite number")
        return raw
    try:
        return typed_decimal(str(raw))
    except ValueError:
        raise ValueError(
            f"{label} must be a number written with the digits 0-9, not {str(raw)[:20]!r}"
        ) from None


def parse_settings(values: Mapping[str, object] | None) -> dict[str, Decimal]:
    """Every setting as a Decimal within its bounds; unknown names and bad values refused."""
    values = dict(values or {})
    problems: dict[str, str] = {}
    unknown = sorted(set(values) - set(FIELDS_BY_NAME))
    if unknown:
        problems["settings"] = f"unknown setting(s): {', '.join(unknown)}"
    clean: dict[str, Decimal] = {}
    for field in FIELDS:
        raw = values.get(field.name)
        if raw is None or raw == "":
            clean[field.name] = field.default
            continue
        try:
            value = number(raw, field.label)
        except ValueError as exc:
            problems[field.name] = str(exc)
            continue
        if not field.minimum <= value <= field.maximum:
            problems[field.name] = (
                f"{field.label} must be {plain(field.minimum)} to {plain(field.maximum)} {field.unit}"
            )
            continue
        clean[field.name] = value
    if problems:
        raise InvalidInput(problems)
    return clean


def settings_query(settings: Mapping[str, Decimal]) -> dict[str, str]:
    """The settings that differ from the defaults, as strings for a URL."""
    return {k: plain(v) for k, v in settings.items() if v != DEFAULTS[k]}


# --- actions --------------------------------------------------------------------------------
# ("buy", size) ("sell", size) ("shock", pct) ("play", seconds) ("apply",) ("flow", rate, buy%)
# ("intervene",): approve the proposed price-action intervention

Action = tuple


def parse_action(token: str) -> Action:
    """One action from its short form: b0.5, s0.5, k-2, p60, a, i, f12/50."""
    token = token.strip()
    if not token:
        raise InvalidInput({"action": "empty action"})
    kind, rest = token[0], token[1:]
    try:
        if kind in "bs":
            size = number(rest, "Size")
            if not D("0") < size <= MAX_USER_SIZE:
                raise ValueError(f"a user's size must be above 0 and at most {MAX_USER_SIZE} BTC")
            return ("buy" if kind == "b" else "sell", size)
        if kind == "k":
            pct = number(rest, "Shock")
            if pct == 0 or abs(pct) > MAX_SHOCK_PCT:
                raise ValueError(f"a price shock must be -{MAX_SHOCK_PCT}% to {MAX_SHOCK_PCT}%, not 0")
            return ("shock", pct)
        if kind == "p":
            try:
                seconds = whole_number(rest, max_digits=3)
            except ValueError:
                seconds = 0
            if not 1 <= seconds <= MAX_PLAY_SECONDS:
                raise ValueError(
                    f"play between 1 and {MAX_PLAY_SECONDS} seconds at a time, written with the "
                    "digits 0-9"
                )
            return ("play", seconds)
        if kind == "a" and rest == "":
            return ("apply",)
        if kind == "i" and rest == "":
            return ("intervene",)
        if kind == "f":
            rate_text, _, buy_text = rest.partition("/")
            rate, buy = number(rate_text, "Users' rate"), number(buy_text, "Users buying")
            for value, name in ((rate, "rate"), (buy, "buy")):
                field = FIELDS_BY_NAME[name]
                if not field.minimum <= value <= field.maximum:
                    raise ValueError(
                        f"{field.label} must be {plain(field.minimum)} to {plain(field.maximum)} "
                        f"{field.unit}"
                    )
            return ("flow", rate, buy)
    except ValueError as exc:
        raise InvalidInput({"action": str(exc)}) from None
    raise InvalidInput({"action": f"unknown action {token[:20]!r}"})


def action_token(action: Action) -> str:
    """The short form of an action tuple; ValueError for a tuple that is no action."""
    kind, args = action[0], [plain(number(a, "A value")) for a in action[1:]]
    if kind in ("buy", "sell") and len(args) == 1:
        return f"{kind[0]}{args[0]}"
    if kind == "shock" and len(args) == 1:
        return f"k{args[0]}"
    if kind == "play" and len(args) == 1:
        return f"p{args[0]}"
    if kind == "apply" and not args:
        return "a"
    if kind == "intervene" and not args:
        return "i"
    if kind == "flow" and len(args) == 2:
        return f"f{args[0]}/{args[1]}"
    raise ValueError(f"unknown action {kind!r}")


def parse_actions(text: str) -> list[Action]:
    tokens = [t for t in (text or "").split(",") if t.strip()]
    if len(tokens) > MAX_ACTIONS:
        raise InvalidInput({"actions": f"at most {MAX_ACTIONS} actions in one run"})
    return [parse_action(t) for t in tokens]


def actions_text(actions: list[Action]) -> str:
    return ",".join(action_token(a) for a in actions)
