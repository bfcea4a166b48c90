"""Run Ballast's simulations from the command line.

    manage.py simulate research [--runs N --seed S --gamma G --k K --A A --sigma S --dt DT --T T
                                 --s0 S0 --mid-step binomial|normal --xi X --delta D --Q LIMIT]
                                [--json]
    manage.py simulate sizing [--market SLUG] [--trades-per-minute N --mean-size X --buy-share B
                              --price P --daily-volatility V --mm-half-spread-bps H
                              --hedge-cost-bps C --mm-base B --mm-quote Q --hedge-base B
                              --hedge-quote Q --floor-base F --floor-quote F]
                              [--days D --paths P --seed S --confidence C --dt DT] [--json]
    manage.py simulate scenario NAME [--seed S --seconds N --set NAME=VALUE ... --actions A]
                              [--json]
    manage.py simulate quote --model glft --A A --k K --gamma G [--xi X] --sigma S
                             [--delta D] [--q Q] [--Q LIMIT] [--json]
    manage.py simulate quote --model as --k K --gamma G --sigma S --T T [--q Q] [--json]

`research` is the Avellaneda-Stoikov experiment (bots/engine/simulation/research.py): the MM engine's
inventory-aware quote and its GLFT quote against a symmetric quote of A-S's average width. `sizing` is the
liquidity-sizing Monte Carlo (bots/engine/simulation/sizing.py): the balances each bot account must start
with, from a flow given by hand or estimated from a market's fills (bots/simulation/sizing_runs.py).
`scenario` replays one of the simulation page's scenarios (bots/engine/simulation/scenarios.py) from a
seed, settings and actions. `quote` prints one quote of the engine's GLFT model
(bots/engine/market_making/glft.py) or its Avellaneda-Stoikov one (volatility.avellaneda_stoikov):
half spread, skew, bid and ask depth, in the price units the parameters are given in. Every
option is checked before anything runs; `--json` prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from bots.engine.market_making import volatility
from bots.engine.market_making.glft import GlftParams, glft_quote
from bots.engine.simulation import research, scenarios, sizing
from bots.engine.simulation.sim_inputs import (
    FIELDS,
    MAX_RUN_SECONDS,
    InvalidInput,
    parse_actions,
    parse_settings,
)
from bots.models import Market
from bots.simulation import sizing_runs
from bots.simulation.sizing_runs import step_seconds


def number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def add_research_arguments(parser) -> None:
    d = research.Params()
    for option, default, help_text in (
        ("--s0", d.s0, "mid price at t = 0"),
        ("--T", d.T, "horizon"),
        ("--sigma", d.sigma, "volatility of the mid, price units per sqrt(unit of time)"),
        ("--dt", d.dt, "time step; T must be a whole number of them"),
        ("--gamma", d.gamma, "risk aversion"),
        ("--k", d.k, "decay of the arrival intensity with the distance from the mid"),
        ("--A", d.A, "arrival intensity at the mid"),
    ):
        parser.add_argument(option, type=number, default=default, help=f"{help_text} ({default:g})")
    parser.add_argument("--xi", type=number, help="GLFT's inventory penalty (default: gamma)")
    parser.add_argument("--delta", type=number, default=d.delta,
                        help=f"GLFT's fill size Delta ({d.delta:g})")
    parser.add_argument("--Q", type=number, metavar="LIMIT",
                        help="GLFT's inventory limit (default: none)")
    parser.add_argument("--runs", type=whole, default=d.runs, help=f"independent runs ({d.runs})")
    parser.add_argument("--seed", type=whole, default=0, help="random seed, 0 or more (0)")
    parser.add_argument(
        "--mid-step", choices=research.MID_STEPS, default=d.mid_step,
        help="binomial: +-sigma*sqrt(dt), the paper's (default); normal: sigma*sqrt(dt)*N(0,1)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")


# Sizing inputs: (option, default without --market, help). None: no default, so without
# --market it must be given; with --market a hand-given value overrides the market's.
_FLOW = sizing.Flow(trades_per_minute=0, mean_size=0)
SIZING_INPUTS = (
    ("trades_per_minute", None, "users' market orders a minute"),
    ("mean_size", None, "mean size of a user order, in base"),
    ("buy_share", _FLOW.buy_share, "share of user orders that buy"),
    ("price", _FLOW.price, "starting mid price"),
    ("daily_volatility", _FLOW.daily_volatility, "std of the mid's daily log return"),
    ("mm_half_spread_bps", _FLOW.mm_half_spread_bps, "the MM bot's distance from the mid"),
    ("hedge_cost_bps", _FLOW.hedge_cost_bps, "the hedge's distance from the mid, fee included"),
    ("mm_base", None, "MM account's starting base"),
    ("mm_quote", None, "MM account's starting quote"),
    ("hedge_base", None, "hedge account's starting base"),
    ("hedge_quote", None, "hedge account's starting quote"),
    ("floor_base", 0.0, "an account is dry below this much base"),
    ("floor_quote", 0.0, "an account is dry below this much quote"),
)
# Which of the market's notes says why an input is missing.
NOTE_FOR = {
    "trades_per_minute": "flow", "mean_size": "flow", "buy_share": "flow",
    "daily_volatility": "volatility",
    "mm_half_spread_bps": "settings", "hedge_cost_bps": "settings",
    "mm_base": "balances", "mm_quote": "balances", "hedge_base": "balances",
    "hedge_quote": "balances",
}
FLOW_FIELDS = ("trades_per_minute", "mean_size", "buy_share", "price", "daily_volatility",
               "mm_half_spread_bps", "hedge_cost_bps")


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_sizing_arguments(parser) -> None:
    parser.add_argument(
        "--market", metavar="SLUG",
        help="take every input not given here from this market: its flow estimated from the "
        "MM bot's fills of the last 24 hours, its settings, balances and band floors",
    )
    for name, default, help_text in SIZING_INPUTS:
        shown = "required without --market" if default is None else f"{default:g}"
        parser.add_argument(flag(name), type=number, help=f"{help_text} ({shown})")
    parser.add_argument("--days", type=number, default=1.0, help="horizon in days (1)")
    parser.add_argument("--paths", type=whole, default=1000, help="simulated paths (1000)")
    parser.add_argument("--seed", type=whole, default=0, help="random seed, 0 or more (0)")
    parser.add_argument("--confidence", type=number, default=0.95,
                        help="share of paths the required balances must last, in (0, 1) (0.95)")
    parser.add_argument("--dt", type=number,
                        help="time step in seconds (as the sizing page: 1 up to a day of horizon, "
                        "then one per day)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def research_params(options: dict) -> research.Params:
    params = research.Params(
        s0=options["s0"], T=options["T"], sigma=options["sigma"], dt=options["dt"],
        gamma=options["gamma"], k=options["k"], A=options["A"], runs=options["runs"],
        mid_step=options["mid_step"], xi=options["xi"], delta=options["delta"], Q=options["Q"],
    )
    problems = research.check(params)
    if options["seed"] < 0:
        problems.append(f"seed must be 0 or more, not {options['seed']}")
    if problems:
        raise CommandError("; ".join(problems))
    return params


def market_inputs(slug: str) -> dict:
    """What the market suggests (bots.simulation.sizing_runs.suggest), as floats, with where it came from."""

    market = (
        Market.objects.select_related("mm_account", "hedge_account").filter(slug=slug).first()
    )
    if market is None:
        known = ", ".join(Market.objects.order_by("slug").values_list("slug", flat=True)[:20])
        raise CommandError(f"--market: no market {slug!r} (markets: {known or 'none'})")
    suggestion = sizing_runs.suggest(market)
    values = {k: float(v) for k, v in suggestion.initial.items()}
    if "daily_volatility_pct" in values:
        values["daily_volatility"] = values.pop("daily_volatility_pct") / 100
    notes = {
        "flow": suggestion.flow_note, "volatility": suggestion.volatility_note,
        "settings": suggestion.settings_note, "balances": suggestion.balances_note,
    }
    return {"market": market, "values": values, "notes": notes}


def sizing_inputs(options: dict) -> dict:
    """The run's inputs, checked: hand-given options first, then the market's (with --market),
    then the defaults. CommandError, naming every problem, before anything runs."""
    problems = []
    from_market = market_inputs(options["market"]) if options["market"] else None
    values, taken = {}, []
    for name, default, _ in SIZING_INPUTS:
        if options[name] is not None:
            values[name] = options[name]
        elif from_market is not None:
            if name in from_market["values"]:
                values[name] = from_market["values"][name]
                taken.append(name)
        elif default is not None:
            values[name] = default
    missing = [name for name, _, _ in SIZING_INPUTS if name not in values]
    if missing:
        if from_market is not None:
            notes = from_market["notes"]
            why = " ".join(dict.fromkeys(
                notes[NOTE_FOR.get(m, "")] for m in missing if notes.get(NOTE_FOR.get(m, ""))
            ))
            problems.append(
                f"the market gives no {', '.join(flag(m) for m in missing)}: {why} "
                f"Pass {'it' if len(missing) == 1 else 'them'} by hand."
            )
        else:
            problems.append(
                "the following arguments are required without --market: "
                + ", ".join(flag(m) for m in missing)
            )

    def at_least(name: str, value: float | None, low: float, strict: bool = False) -> None:
        if value is not None and (value < low or (strict and value == low)):
            word = "more than" if strict else "at least"
            problems.append(f"{flag(name)} must be {word} {low:g}, not {value:g}")

    for name in ("trades_per_minute", "daily_volatility", "mm_half_spread_bps", "hedge_cost_bps",
                 "mm_base", "mm_quote", "hedge_base", "hedge_quote", "floor_base", "floor_quote"):
        at_least(name, values.get(name), 0)
    at_least("mean_size", values.get("mean_size"), 0, strict=True)
    at_least("price", values.get("price"), 0, strict=True)
    at_least("days", options["days"], 0, strict=True)
    at_least("paths", options["paths"], 1)
    at_least("seed", options["seed"], 0)
    at_least("dt", options["dt"], 0, strict=True)
    if not 0 <= values.get("buy_share", 0) <= 1:
        problems.append(f"--buy-share must be between 0 and 1, not {values['buy_share']:g}")
    if not 0 < options["confidence"] < 1:
        problems.append(
            f"--confidence must be between 0 and 1 (exclusive), not {options['confidence']:g}"
        )
    days, dt = options["days"], options["dt"]
    if dt is None and days > 0:

        dt = float(step_seconds(Decimal(repr(days))))
    if days > 0 and dt is not None and 0 < dt and dt > days * sizing.SECONDS_PER_DAY:
        problems.append(f"--dt ({dt:g} s) must not be longer than --days ({days:g})")
    if problems:
        raise CommandError("; ".join(problems))
    inputs = {
        "flow": sizing.Flow(**{k: values[k] for k in FLOW_FIELDS}),
        "pools": sizing.Pools(**{k: v for k, v in values.items() if k not in FLOW_FIELDS}),
        "days": days, "paths": options["paths"], "seed": options["seed"], "dt": dt,
        "confidence": options["confidence"], "market": None,
    }
    if from_market is not None:
        market = from_market["market"]
        inputs["market"] = {
            "slug": market.slug, "base": market.base, "quote": market.quote,
            "from_market": taken, "notes": from_market["notes"],
        }
    return inputs


def run_sizing(inputs: dict) -> dict:
    """The sizing run as one document: its inputs, the requirement and the summary."""
    flow, pools = inputs["flow"], inputs["pools"]
    result = sizing.simulate(flow, pools, days=inputs["days"], paths=inputs["paths"],
                             seed=inputs["seed"], dt=inputs["dt"])
    need = sizing.required_pools(result, pools, confidence=inputs["confidence"])
    return {
        "market": inputs["market"],
        "flow": asdict(flow),
        "pools": asdict(pools),
        **{k: inputs[k] for k in ("days", "paths", "seed", "dt", "confidence")},
        "requirement": asdict(need),
        "summary": sizing.summary(result),
    }


def research_table(summary: dict) -> str:
    p = summary["params"]
    steps = int(round(p["T"] / p["dt"]))
    lines = [
        f"Avellaneda-Stoikov experiment: {p['runs']:,} runs, seed {summary['seed']}",
        f"s0={p['s0']:g} T={p['T']:g} sigma={p['sigma']:g} dt={p['dt']:g} ({steps} steps) "
        f"gamma={p['gamma']:g} k={p['k']:g} A={p['A']:g}, {p['mid_step']} mid steps",
        f"GLFT: xi={'gamma' if p['xi'] is None else format(p['xi'], 'g')} "
        f"delta={p['delta']:g} Q={'none' if p['Q'] is None else format(p['Q'], 'g')}",
        "",
        f"{'strategy':<10} {'mean spread':>12} {'profit mean':>12} {'profit std':>11} "
        f"{'final q mean':>13} {'final q std':>12}",
    ]
    for s in summary["strategies"]:
        spread = "-" if s["mean_spread"] is None else f"{s['mean_spread']:.4f}"
        lines.append(
            f"{s['strategy']:<10} {spread:>12} {s['profit_mean']:>12.2f} "
            f"{s['profit_std']:>11.2f} {s['final_inventory_mean']:>13.3f} "
            f"{s['final_inventory_std']:>12.3f}"
        )
    lines.append("")
    lines.append("Standard deviations are over the runs; profit is cash + q * mid at T.")
    lines.append("inventory: Avellaneda-Stoikov; glft: Gueant-Lehalle-Fernandez-Tapia; "
                 "symmetric: A-S's mean spread around the mid.")
    return "\n".join(lines)


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} days"


def _horizon(days: float) -> str:
    return "1 day" if days == 1 else f"{days:g} days"


def sizing_table(doc: dict) -> str:
    f, p, need, s = doc["flow"], doc["pools"], doc["requirement"], doc["summary"]
    market = doc["market"]
    base, quote = (market["base"], market["quote"]) if market else ("base", "quote")
    lines = [
        f"Liquidity sizing{' of ' + market['slug'] if market else ''}: {doc['paths']:,} paths of "
        f"{_horizon(doc['days'])} in {doc['dt']:g} s steps, seed {doc['seed']}",
        f"Flow: {f['trades_per_minute']:g} user orders a minute, mean size {f['mean_size']:g} "
        f"{base}, buy share {f['buy_share']:g}, price {f['price']:g}, daily volatility "
        f"{f['daily_volatility']:g}, MM half spread {f['mm_half_spread_bps']:g} bps, hedge cost "
        f"{f['hedge_cost_bps']:g} bps",
        f"Pools: MM {p['mm_base']:g} {base} / {p['mm_quote']:g} {quote}, hedge "
        f"{p['hedge_base']:g} {base} / {p['hedge_quote']:g} {quote}; dry below "
        f"{p['floor_base']:g} {base} or {p['floor_quote']:g} {quote}",
    ]
    if market:
        taken = ", ".join(flag(n) for n in market["from_market"]) or "nothing"
        lines.append(f"From the market: {taken}.")
        lines.extend(f"  {note}" for note in market["notes"].values() if note)
    lines += [
        "",
        f"Required starting balances (no account dry on {doc['confidence']:.0%} of paths "
        f"over {_horizon(doc['days'])}):",
        f"{'account':<8} {base:>16} {quote:>18}",
        f"{'MM':<8} {need['mm_base']:>16.8f} {need['mm_quote']:>18.2f}",
        f"{'hedge':<8} {need['hedge_base']:>16.8f} {need['hedge_quote']:>18.2f}",
        "",
        f"With the pools given: {s['share_dry']:.1%} of paths run dry; median days to dry "
        f"{_days(s['median_days_to_dry'])}, 5th percentile {_days(s['p05_days_to_dry'])}",
        f"Edge kept ({quote}, until dry or the horizon): mean {s['edge_mean']:.2f}, "
        f"5th percentile {s['edge_p05']:.2f}, 95th percentile {s['edge_p95']:.2f}",
    ]
    return "\n".join(lines)


MAX_SEED = 999_999_999  # as the simulation page's links


def add_scenario_arguments(parser) -> None:
    parser.add_argument("name", choices=list(scenarios.SCENARIOS), help="the scenario")
    parser.add_argument("--seed", type=whole, default=0, help=f"random seed, 0 to {MAX_SEED} (0)")
    parser.add_argument(
        "--seconds", type=whole, default=60,
        help=f"simulated seconds played after the actions, 0 to {MAX_RUN_SECONDS} (60)",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="a setting, as on the simulation page (repeatable): "
        + ", ".join(f"{f.name} ({f.unit}, {f.default})" for f in FIELDS),
    )
    parser.add_argument(
        "--actions", default="",
        help="actions applied first, in order, as in the page's links: b0.5 (a user buys 0.5), "
        "s0.5 (sells), k-2 (price shock %%), p60 (play 60 s), a (apply the rebalance), "
        "f30/80 (users' rate and buy %%); comma-separated",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def scenario_summary(options: dict) -> dict:
    """Run the scenario once its every input is checked; its summary (Decimals as strings)."""
    problems = []
    settings = {}
    for item in options["set"]:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            problems.append(f"--set takes NAME=VALUE, not {item!r}")
        else:
            settings[name.strip()] = value.strip()
    if not 0 <= options["seed"] <= MAX_SEED:
        problems.append(f"--seed must be 0 to {MAX_SEED}, not {options['seed']}")
    if not 0 <= options["seconds"] <= MAX_RUN_SECONDS:
        problems.append(f"--seconds must be 0 to {MAX_RUN_SECONDS}, not {options['seconds']}")
    actions = []
    try:
        parse_settings(settings)
    except InvalidInput as exc:
        problems.extend(exc.problems.values())
    try:
        actions = parse_actions(options["actions"])
    except InvalidInput as exc:
        problems.extend(exc.problems.values())
    if problems:
        raise CommandError("; ".join(problems))
    try:
        sim = scenarios.run(options["name"], options["seed"], options["seconds"], settings, actions)
    except InvalidInput as exc:
        # What only the run finds out (a whole run too long once its actions are played).
        raise CommandError("; ".join(exc.problems.values())) from None
    return sim.summary()


def _lines(doc: dict, indent: str = "") -> list[str]:
    lines = []
    for key, value in doc.items():
        label = key.replace("_", " ")
        if isinstance(value, dict):
            lines.append(f"{indent}{label}:")
            lines.extend(_lines(value, indent + "  "))
        else:
            lines.append(f"{indent}{label}: {'-' if value in ('', None) else value}")
    return lines


def scenario_text(doc: dict) -> str:
    return "\n".join(_lines(doc))


def exact(text: str) -> Decimal:
    """A finite decimal, as typed: the quote is the engine's Decimal arithmetic."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


QUOTE_MODELS = ("glft", "as")
# option: (the models it belongs to, help). Which are required is said in quote_inputs.
QUOTE_OPTIONS = {
    "A": (("glft",), "arrival intensity of market orders at depth 0, per unit of time"),
    "k": (("glft", "as"), "decay of the arrival intensity A*exp(-k*depth), per price unit"),
    "gamma": (("glft", "as"), "risk aversion"),
    "xi": (("glft",), "GLFT's inventory penalty (default: gamma)"),
    "sigma": (("glft", "as"), "volatility of the mid, price units per sqrt(unit of time)"),
    "delta": (("glft",), "GLFT's Delta: the size of one fill, in the units of q (default 1)"),
    "q": (("glft", "as"), "inventory (default 0)"),
    "Q": (("glft",), "GLFT's inventory limit: the side a fill of Delta would take past it is "
                      "off (default: no limit)"),
    "T": (("as",), "Avellaneda-Stoikov's horizon T-t, in the units of time of sigma"),
}
REQUIRED = {"glft": ("A", "k", "gamma", "sigma"), "as": ("k", "gamma", "sigma", "T")}
METAVARS = {"gamma": "G", "xi": "X", "sigma": "S", "delta": "D", "Q": "LIMIT"}


def add_quote_arguments(parser) -> None:
    parser.add_argument("--model", choices=QUOTE_MODELS, required=True,
                        help="glft: Gueant-Lehalle-Fernandez-Tapia; as: Avellaneda-Stoikov")
    for name, (models, help_text) in QUOTE_OPTIONS.items():
        parser.add_argument(f"--{name}", dest=f"quote_{name}", type=exact,
                            metavar=METAVARS.get(name, name.upper()),
                            help=f"{help_text} [{', '.join(models)}]")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def quote_inputs(options: dict) -> dict[str, Decimal]:
    """The given options of the model, checked: CommandError naming every problem."""
    model = options["model"]
    given = {n: options[f"quote_{n}"] for n in QUOTE_OPTIONS if options[f"quote_{n}"] is not None}
    problems = []
    foreign = [f"--{n}" for n in given if model not in QUOTE_OPTIONS[n][0]]
    if foreign:
        problems.append(f"{', '.join(foreign)} not used by --model {model}")
    missing = [f"--{n}" for n in REQUIRED[model] if n not in given]
    if missing:
        problems.append(f"--model {model} needs {', '.join(missing)}")
    defaults = {"q": Decimal(0), **({"delta": Decimal(1)} if model == "glft" else {})}
    inputs = {n: given.get(n, defaults.get(n)) for n in QUOTE_OPTIONS}
    inputs = {n: v for n, v in inputs.items() if v is not None}
    for name in ("sigma", "T"):
        if name in given and given[name] < 0:
            problems.append(f"--{name} must be 0 or more, not {given[name]}")
    if model == "glft" and not missing:
        params = glft_params(inputs)
        problems += ["--" + problem for problem in params.problems()]
    if model == "as":
        for name in ("k", "gamma"):
            if name in given and given[name] <= 0:
                problems.append(f"--{name} must be more than 0, not {given[name]}")
    if problems:
        raise CommandError("; ".join(problems))
    return inputs


def glft_params(inputs: dict[str, Decimal]) -> GlftParams:
    return GlftParams(A=inputs["A"], k=inputs["k"], gamma=inputs["gamma"], delta=inputs["delta"],
                      xi=inputs.get("xi"), q_limit=inputs.get("Q"))


def _price(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def run_quote(model: str, inputs: dict[str, Decimal]) -> dict:
    """The model's quote at q, in the parameters' price units; a side that is off is None."""
    if model == "glft":
        quote = glft_quote(inputs["q"], inputs["sigma"], glft_params(inputs))
        half, skew, bid, ask = quote.half_spread, quote.skew, quote.bid_depth, quote.ask_depth
    else:
        # The engine's A-S quote is the same arithmetic in any units: bps live, price units here.
        def at(q: Decimal) -> volatility.AvellanedaQuote:
            return volatility.avellaneda_stoikov(
                q, inputs["sigma"], inputs["gamma"], inputs["k"], inputs["T"])

        quote = at(inputs["q"])
        half, skew = quote.spread_bps / 2, -at(Decimal(1)).reservation_bps
        bid, ask = half - quote.reservation_bps, half + quote.reservation_bps
    return {
        "model": model,
        "inputs": {name: float(value) for name, value in inputs.items()},
        "half_spread": float(half), "skew": float(skew),
        "bid_depth": _price(bid), "ask_depth": _price(ask),
    }


def quote_text(doc: dict) -> str:
    name = {"glft": "GLFT", "as": "Avellaneda-Stoikov"}[doc["model"]]
    given = " ".join(f"{k}={v:g}" for k, v in doc["inputs"].items())

    def depth(value: float | None) -> str:
        return "off (a fill would pass Q)" if value is None else f"{value:.6f}"

    return "\n".join([
        f"{name} quote, in the parameters' price units: {given}",
        f"half spread  {doc['half_spread']:.6f}",
        f"skew         {doc['skew']:.6f}  (depth moved per unit of inventory)",
        f"bid depth    {depth(doc['bid_depth'])}  (below the mid)",
        f"ask depth    {depth(doc['ask_depth'])}  (above the mid)",
    ])


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        commands = parser.add_subparsers(
            dest="simulation", required=True, metavar="{research,sizing,scenario,quote}"
        )
        add_research_arguments(commands.add_parser(
            "research",
            help="the Avellaneda-Stoikov experiment: A-S and GLFT vs symmetric quotes"))
        add_sizing_arguments(commands.add_parser(
            "sizing", help="the balances each bot account must start with"))
        add_scenario_arguments(commands.add_parser(
            "scenario", help="one of the simulation page's scenarios, replayed from a seed"))
        add_quote_arguments(commands.add_parser(
            "quote", help="one GLFT or Avellaneda-Stoikov quote: half spread, skew, depths"))

    def handle(self, *args, simulation: str, **options):
        if simulation == "research":
            params = research_params(options)
            doc = research.run(params, seed=options["seed"]).summary()
            text = research_table(doc)
        elif simulation == "sizing":
            doc = run_sizing(sizing_inputs(options))
            text = sizing_table(doc)
        elif simulation == "quote":
            doc = run_quote(options["model"], quote_inputs(options))
            text = quote_text(doc)
        else:
            doc = scenario_summary(options)
            text = scenario_text(doc)
        self.stdout.write(json.dumps(doc, indent=2) if options["json"] else text)
