"""`manage.py simulate`: its figures are the engine's for the same seed, its JSON is stable, and
bad options are refused with the reason before anything runs."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bots.engine.simulation import research, scenarios, sizing
from bots.engine.simulation.sim_inputs import MAX_RUN_SECONDS

ROOT = Path(__file__).resolve().parents[2]
SIZING = [
    "--trades-per-minute", "20", "--mean-size", "0.05", "--buy-share", "0.55",
    "--mm-base", "2", "--mm-quote", "130000", "--hedge-base", "2", "--hedge-quote", "130000",
    "--floor-base", "0.1", "--floor-quote", "5000", "--days", "0.05", "--paths", "200",
    "--seed", "9",
]


def simulate(*args: str) -> str:
    out = StringIO()
    call_command("simulate", *args, stdout=out)
    return out.getvalue()


def test_research_json_is_the_engines_figures_for_the_seed():
    doc = json.loads(
        simulate("research", "--runs", "300", "--seed", "4", "--gamma", "0.05", "--json")
    )

    direct = research.run(research.Params(gamma=0.05, runs=300), seed=4).summary()
    assert doc == json.loads(json.dumps(direct))
    assert [s["strategy"] for s in doc["strategies"]] == ["inventory", "glft", "symmetric"]
    assert doc["seed"] == 4 and doc["params"]["runs"] == 300


def test_research_json_is_identical_for_the_same_seed_and_differs_for_another():
    first = simulate("research", "--runs", "200", "--seed", "1", "--json")
    again = simulate("research", "--runs", "200", "--seed", "1", "--json")
    other = simulate("research", "--runs", "200", "--seed", "2", "--json")

    assert first == again
    assert first != other


def test_research_prints_a_table_per_strategy():
    text = simulate("research", "--runs", "200", "--seed", "3", "--mid-step", "normal")
    summary = research.run(research.Params(runs=200, mid_step="normal"), seed=3).summary()

    assert "200 runs, seed 3" in text and "normal mid steps" in text
    for row in summary["strategies"]:
        line = next(line for line in text.splitlines() if line.startswith(row["strategy"]))
        assert line.split()[1:] == [
            f"{row['mean_spread']:.4f}", f"{row['profit_mean']:.2f}", f"{row['profit_std']:.2f}",
            f"{row['final_inventory_mean']:.3f}", f"{row['final_inventory_std']:.3f}",
        ]


def test_the_shell_command_prints_what_call_command_does(tmp_path):
    args = ["research", "--runs", "50", "--seed", "8", "--json"]
    shell = subprocess.run(
        [sys.executable, "manage.py", "simulate", *args], cwd=ROOT, capture_output=True,
        text=True, check=True, timeout=120,
    )

    assert json.loads(shell.stdout) == json.loads(simulate(*args))


def test_the_shell_command_names_a_bad_option():
    shell = subprocess.run(
        [sys.executable, "manage.py", "simulate", "research", "--gamma", "-2"], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
    )

    assert shell.returncode != 0
    assert "gamma must be a positive number, not -2.0" in shell.stderr
    assert shell.stdout == ""


@pytest.fixture
def engine_calls(monkeypatch):
    calls = []
    monkeypatch.setattr(research, "run", lambda *a, **k: calls.append(("research", a, k)))
    monkeypatch.setattr(sizing, "simulate", lambda *a, **k: calls.append(("sizing", a, k)))
    monkeypatch.setattr(scenarios, "run", lambda *a, **k: calls.append(("scenario", a, k)))
    return calls


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["research", "--runs", "0"], "runs must be a whole number of at least 1, not 0"),
        (["research", "--runs", "many"], "argument --runs: 'many' is not a whole number"),
        (["research", "--gamma", "0"], "gamma must be a positive number, not 0.0"),
        (["research", "--k", "nan"], "argument --k: 'nan' is not a finite number"),
        (["research", "--A", "-1"], "A must be zero or a positive number, not -1.0"),
        (["research", "--T", "1", "--dt", "0.3"],
         "T (1.0) must be a whole number (at least 1) of steps dt (0.3)"),
        (["research", "--seed", "-1"], "seed must be 0 or more, not -1"),
        (["research", "--Q", "-1"], "Q must be zero or a positive number, not -1.0"),
        (["research", "--xi", "0"], "xi must be a positive number, not 0.0"),
        (["research", "--delta", "inf"], "argument --delta: 'inf' is not a finite number"),
        (["research", "--mid-step", "jump"], "argument --mid-step: invalid choice: 'jump'"),
        (["research", "--runs", "1000000", "--dt", "0.0001"], "at most 50,000,000 fit in memory"),
        (["sizing", *SIZING, "--confidence", "1"],
         "--confidence must be between 0 and 1 (exclusive), not 1"),
        (["sizing", *SIZING, "--buy-share", "1.5"], "--buy-share must be between 0 and 1, not 1.5"),
        (["sizing", *SIZING, "--mean-size", "0"], "--mean-size must be more than 0, not 0"),
        (["sizing", *SIZING, "--paths", "0"], "--paths must be at least 1, not 0"),
        (["sizing", *SIZING, "--days", "-1"], "--days must be more than 0, not -1"),
        (["sizing", *SIZING, "--mm-quote", "-5"], "--mm-quote must be at least 0, not -5"),
        (["sizing", *SIZING, "--dt", "86400"],
         "--dt (86400 s) must not be longer than --days (0.05)"),
        (["sizing", "--mean-size", "0.05", "--mm-base", "1"],
         "the following arguments are required without --market: --trades-per-minute, "
         "--mm-quote, --hedge-base, --hedge-quote"),
        (["scenario", "tsunami"], "argument name: invalid choice: 'tsunami'"),
        (["scenario", "whale", "--seed", "1000000000"], "--seed must be 0 to 999999999"),
        (["scenario", "whale", "--seconds", str(MAX_RUN_SECONDS + 1)],
         f"--seconds must be 0 to {MAX_RUN_SECONDS}, not {MAX_RUN_SECONDS + 1}"),
        (["scenario", "whale", "--set", "spread"], "--set takes NAME=VALUE, not 'spread'"),
        (["scenario", "whale", "--set", "spread=900"], "MM spread must be 0 to 500 bps"),
        (["scenario", "whale", "--set", "colour=red"], "unknown setting(s): colour"),
        (["scenario", "whale", "--actions", "b0.5,p9999"], "play between 1 and 120 seconds"),
        (["scenario", "whale", "--actions", "z1"], "unknown action 'z1'"),
        (["bake"], "invalid choice: 'bake'"),
    ],
)
def test_bad_options_are_refused_with_the_reason_and_nothing_runs(engine_calls, args, message):
    with pytest.raises(CommandError) as refused:
        simulate(*args)

    assert message in str(refused.value)
    assert engine_calls == []


def test_sizing_json_is_the_engines_figures_for_the_seed():
    doc = json.loads(simulate("sizing", *SIZING, "--confidence", "0.9", "--json"))

    flow = sizing.Flow(trades_per_minute=20, mean_size=0.05, buy_share=0.55)
    pools = sizing.Pools(2, 130_000, 2, 130_000, floor_base=0.1, floor_quote=5_000)
    result = sizing.simulate(flow, pools, days=0.05, paths=200, seed=9)
    need = sizing.required_pools(result, pools, confidence=0.9)
    assert doc["requirement"] == {
        "mm_base": need.mm_base, "mm_quote": need.mm_quote, "hedge_base": need.hedge_base,
        "hedge_quote": need.hedge_quote, "horizon_days": 0.05, "confidence": 0.9,
    }
    assert doc["summary"] == json.loads(json.dumps(sizing.summary(result)))
    assert doc["flow"]["buy_share"] == 0.55 and doc["pools"]["floor_quote"] == 5000
    assert json.loads(simulate("sizing", *SIZING, "--confidence", "0.9", "--json")) == doc


def test_sizing_prints_the_requirement_per_account_and_asset():
    text = simulate("sizing", *SIZING)
    flow = sizing.Flow(trades_per_minute=20, mean_size=0.05, buy_share=0.55)
    pools = sizing.Pools(2, 130_000, 2, 130_000, floor_base=0.1, floor_quote=5_000)
    result = sizing.simulate(flow, pools, days=0.05, paths=200, seed=9)
    need = sizing.required_pools(result, pools, confidence=0.95)

    lines = text.splitlines()
    assert next(x for x in lines if x.startswith("MM ")).split()[1:] == [
        f"{need.mm_base:.8f}", f"{need.mm_quote:.2f}"]
    assert next(x for x in lines if x.startswith("hedge ")).split()[1:] == [
        f"{need.hedge_base:.8f}", f"{need.hedge_quote:.2f}"]
    assert f"{sizing.summary(result)['share_dry']:.1%} of paths run dry" in text


# --- sizing from a market's recorded fills ---------------------------------------------------


@pytest.fixture
def market_with_fills(demo_market):
    """The demo market with 40 user orders over the last 40 minutes (26 user buys, that is MM
    sells), 30 reference prices a minute apart, and its accounts' balances read."""
    from django.utils import timezone

    from bots.models import Fill
    from bots.treasury.balances import refresh_balances

    now_ms = int(timezone.now().timestamp() * 1000)
    demo_market.reference_samples = [
        [now_ms - (30 - i) * 60_000, str(65_000 + 20 * (-1) ** i)] for i in range(30)
    ]
    demo_market.save(update_fields=["reference_samples"])
    for account in (demo_market.mm_account, demo_market.hedge_account):
        refresh_balances(account, [demo_market.base, demo_market.quote])
    for i in range(40):
        Fill.objects.create(
            venue=demo_market.mm_account.venue, account=demo_market.mm_account, market=demo_market,
            trade_id=f"t{i}", order_id=f"o{i}", side="buy" if i % 3 == 0 else "sell",
            price=Decimal("65000") + i, amount=Decimal("0.04") + Decimal(i) / 1000,
            cost=(Decimal("65000") + i) * (Decimal("0.04") + Decimal(i) / 1000),
            timestamp=now_ms - (40 - i) * 60_000,
        )
    return demo_market


MARKET_RUN = ["--days", "0.05", "--paths", "100", "--seed", "2"]


def test_sizing_takes_the_flow_from_the_markets_fills(market_with_fills):
    doc = json.loads(simulate("sizing", "--market", "btc-usdt", *MARKET_RUN, "--json"))

    flow = doc["flow"]
    assert flow["buy_share"] == 26 / 40  # every order whose fill is an MM sell is a user buy
    assert flow["mean_size"] == pytest.approx(0.04 + 0.0195, rel=1e-6)
    # 39 orders after the first, over the 40 minutes from it to now.
    assert flow["trades_per_minute"] == pytest.approx(39 / 40, rel=1e-3)
    assert {"trades_per_minute", "mean_size", "buy_share"} <= set(doc["market"]["from_market"])
    assert "Estimated from 40 fills" in doc["market"]["notes"]["flow"]
    # The demo's balances, a volatility from the reference samples, the newest fill's price.
    assert doc["pools"]["mm_base"] == 2 and doc["pools"]["hedge_quote"] == 130_000
    assert doc["flow"]["daily_volatility"] > 0 and doc["flow"]["price"] == 65_039

    # The figures are the engine's for exactly those inputs and the seed.
    result = sizing.simulate(sizing.Flow(**flow), sizing.Pools(**doc["pools"]), days=0.05,
                             paths=100, seed=2, dt=doc["dt"])
    assert doc["summary"] == json.loads(json.dumps(sizing.summary(result)))
    need = sizing.required_pools(result, sizing.Pools(**doc["pools"]), confidence=0.95)
    assert doc["requirement"]["mm_base"] == need.mm_base


def test_an_option_given_by_hand_overrides_the_markets(market_with_fills):
    doc = json.loads(simulate("sizing", "--market", "btc-usdt", "--trades-per-minute", "99",
                              "--mm-base", "7", *MARKET_RUN, "--json"))

    assert doc["flow"]["trades_per_minute"] == 99 and doc["pools"]["mm_base"] == 7
    assert "trades_per_minute" not in doc["market"]["from_market"]
    assert "mm_base" not in doc["market"]["from_market"]
    text = simulate("sizing", "--market", "btc-usdt", "--trades-per-minute", "99", *MARKET_RUN)
    assert "Liquidity sizing of btc-usdt" in text and "BTC" in text and "USDT" in text


def test_a_market_without_enough_fills_asks_for_the_flow_by_hand(demo_market, engine_calls):
    with pytest.raises(CommandError) as refused:
        simulate("sizing", "--market", "btc-usdt", *MARKET_RUN)

    message = str(refused.value)
    assert "the market gives no --trades-per-minute, --mean-size, --buy-share" in message
    assert "Not enough fills: 0 user orders" in message and "Pass them by hand." in message
    assert engine_calls == []


def test_an_unknown_market_is_refused(demo_market, engine_calls):
    with pytest.raises(CommandError) as refused:
        simulate("sizing", "--market", "eth-usdt", *MARKET_RUN)
    assert str(refused.value) == "--market: no market 'eth-usdt' (markets: btc-usdt)"
    assert engine_calls == []


# --- the simulation page's scenarios ---------------------------------------------------------


def test_scenario_json_is_the_engines_run_for_the_seed_settings_and_actions():
    args = ["scenario", "whale", "--seed", "3", "--seconds", "30", "--set", "spread=20",
            "--set", "mm_btc=5", "--actions", "b0.5,p10,k-2,a"]
    doc = json.loads(simulate(*args, "--json"))

    direct = scenarios.run(
        "whale", 3, 30, {"spread": "20", "mm_btc": "5"}, ["b0.5", "p10", "k-2", "a"]
    )
    assert doc == json.loads(json.dumps(direct.summary()))
    assert doc["settings"]["spread"] == "20" and doc["actions"].startswith("b0.5,p10,k-2,a")
    assert simulate(*args, "--json") == simulate(*args, "--json")


def test_another_seed_gives_another_scenario_run():
    def steady(seed: str) -> dict:
        args = ["scenario", "steady", "--seed", seed, "--seconds", "60", "--json"]
        return json.loads(simulate(*args))

    assert steady("1") != steady("2")
    assert steady("1") == steady("1")


def test_scenario_prints_the_summary_for_a_reader():
    text = simulate("scenario", "venue_down", "--seed", "4", "--seconds", "45")
    summary = scenarios.run("venue_down", 4, 45).summary()

    lines = text.splitlines()
    assert lines[0] == "scenario: venue_down" and "seed: 4" in lines
    assert f"edge kept usdt: {summary['edge_kept_usdt']}" in lines
    assert f"    BTC: {summary['balances']['mm']['BTC']}" in lines


@pytest.mark.django_db
@pytest.mark.processes
def test_a_link_of_the_simulation_page_replays_as_the_same_run_in_simulate(client, demo_worker):
    page = client.get("/demo", {"scenario": "whale", "seed": "3", "spread": "20",
                                "actions": "b0.5,p10,k-2,a,p20"})
    assert page.status_code == 200

    shell = simulate("scenario", "whale", "--seed", "3", "--seconds", "0", "--set", "spread=20",
                     "--actions", "b0.5,p10,k-2,a,p20", "--json")
    assert json.loads(shell) == json.loads(json.dumps(page.context["summary"]))
    assert json.loads(shell)["actions"] == "b0.5,p10,k-2,a,p20"
