"""`manage.py simulate quote`: one GLFT or Avellaneda-Stoikov quote as JSON in price units, the
engine's own figures (checked by hand too), and bad input refused with a message and a non-zero
exit before any quote is computed."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from decimal import Decimal as D
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bots.engine.market_making import glft
from bots.engine.market_making.glft import GlftParams, glft_quote

ROOT = Path(__file__).resolve().parents[2]
GLFT = ["quote", "--model", "glft", "--A", "140", "--k", "1.5", "--gamma", "0.1", "--xi", "0.1",
        "--sigma", "2", "--delta", "1", "--q", "3"]


def simulate(*args: str) -> str:
    out = StringIO()
    call_command("simulate", *args, stdout=out)
    return out.getvalue()


def test_glft_json_is_the_engines_quote_in_price_units():
    doc = json.loads(simulate(*GLFT, "--json"))

    model = glft_quote(D(3), D(2), GlftParams(D(140), D("1.5"), D("0.1"), D(1), xi=D("0.1")))
    assert doc["model"] == "glft"
    assert doc["half_spread"] == float(model.half_spread)
    assert doc["skew"] == float(model.skew)
    assert doc["bid_depth"] == float(model.bid_depth)
    assert doc["ask_depth"] == float(model.ask_depth)
    assert doc["inputs"] == {"A": 140, "k": 1.5, "gamma": 0.1, "xi": 0.1, "sigma": 2,
                             "delta": 1, "q": 3}


def test_glft_figures_by_hand():
    # A = k = gamma = Delta = sigma = 1, xi left to default to gamma, q = 0.5:
    # half spread ln 2 + sqrt 2 / 2, skew sqrt 2, bid ln 2 + sqrt 2, ask ln 2.
    doc = json.loads(simulate("quote", "--model", "glft", "--A", "1", "--k", "1", "--gamma", "1",
                              "--sigma", "1", "--q", "0.5", "--json"))

    assert doc["half_spread"] == pytest.approx(math.log(2) + math.sqrt(2) / 2, rel=1e-12)
    assert doc["skew"] == pytest.approx(math.sqrt(2), rel=1e-12)
    assert doc["bid_depth"] == pytest.approx(math.log(2) + math.sqrt(2), rel=1e-12)
    assert doc["ask_depth"] == pytest.approx(math.log(2), rel=1e-12)
    assert doc["inputs"]["delta"] == 1  # the default


def test_glft_beyond_the_limit_prints_the_adding_side_as_null():
    doc = json.loads(simulate(*GLFT, "--Q", "3.5", "--json"))

    assert doc["bid_depth"] is None and doc["ask_depth"] > 0


def test_avellaneda_stoikov_json_by_hand():
    # The paper's gamma = 0.1, k = 1.5, sigma = 2 with T-t = 1 and q = 2: the risk term
    # gamma*sigma^2*(T-t) = 0.4 is the skew, (2/gamma)*ln(1 + gamma/k) = 1.2908 the rest of the
    # spread; the reservation price is 0.8 below the mid.
    doc = json.loads(simulate("quote", "--model", "as", "--k", "1.5", "--gamma", "0.1",
                              "--sigma", "2", "--T", "1", "--q", "2", "--json"))

    half = (0.4 + 20 * math.log(1 + 0.1 / 1.5)) / 2
    assert doc["model"] == "as"
    assert doc["skew"] == pytest.approx(0.4, rel=1e-12)
    assert doc["half_spread"] == pytest.approx(half, rel=1e-12)
    assert doc["bid_depth"] == pytest.approx(half + 0.8, rel=1e-12)
    assert doc["ask_depth"] == pytest.approx(half - 0.8, rel=1e-12)


def test_the_table_names_each_figure():
    text = simulate(*GLFT, "--Q", "3.5")
    doc = json.loads(simulate(*GLFT, "--Q", "3.5", "--json"))

    assert text.startswith("GLFT quote, in the parameters' price units: A=140 k=1.5")
    assert f"half spread  {doc['half_spread']:.6f}" in text
    assert "bid depth    off (a fill would pass Q)" in text
    assert f"ask depth    {doc['ask_depth']:.6f}" in text


def test_the_shell_command_prints_the_json_and_refuses_bad_input_non_zero():
    good = subprocess.run([sys.executable, "manage.py", "simulate", *GLFT, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(good.stdout) == json.loads(simulate(*GLFT, "--json"))

    bad = subprocess.run(
        [sys.executable, "manage.py", "simulate", "quote", "--model", "glft", "--A", "0",
         "--k", "1", "--gamma", "1", "--sigma", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode != 0 and bad.stdout == ""
    assert "--A must be more than 0, not 0" in bad.stderr


@pytest.fixture
def no_quote(monkeypatch):
    calls = []
    monkeypatch.setattr(glft, "coefficients", lambda *a: calls.append(a))
    return calls


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "glft", "--k", "1", "--gamma", "1"], "--model glft needs --A, --sigma"),
        (["--model", "as", "--k", "1", "--gamma", "1", "--sigma", "1"], "--model as needs --T"),
        (["--model", "as", "--k", "1", "--gamma", "1", "--sigma", "1", "--T", "1", "--xi", "1",
          "--Q", "2"], "--xi, --Q not used by --model as"),
        (["--model", "glft", "--A", "1", "--k", "1", "--gamma", "1", "--sigma", "1", "--T", "1"],
         "--T not used by --model glft"),
        (["--model", "glft", "--A", "1", "--k", "0", "--gamma", "-1", "--sigma", "1"],
         "--k must be more than 0, not 0; --gamma must be more than 0, not -1"),
        (["--model", "glft", "--A", "1", "--k", "1", "--gamma", "1", "--sigma", "-1"],
         "--sigma must be 0 or more, not -1"),
        (["--model", "glft", "--A", "1", "--k", "1", "--gamma", "1", "--sigma", "1", "--xi", "0"],
         "--xi must be more than 0 (or left out for gamma), not 0"),
        (["--model", "glft", "--A", "1", "--k", "1", "--gamma", "1", "--sigma", "1",
          "--delta", "0"], "--delta must be more than 0, not 0"),
        (["--model", "glft", "--A", "1", "--k", "1", "--gamma", "1", "--sigma", "1", "--Q", "-2"],
         "--Q must be 0 or more (or left out for no limit), not -2"),
        (["--model", "as", "--k", "1", "--gamma", "0", "--sigma", "1", "--T", "-1"],
         "--T must be 0 or more, not -1; --gamma must be more than 0, not 0"),
        (["--model", "glft", "--A", "lots"], "argument --A: 'lots' is not a number"),
        (["--model", "glft", "--k", "inf"], "argument --k: 'inf' is not a finite number"),
        (["--model", "bs"], "argument --model: invalid choice: 'bs'"),
        (["--A", "1"], "the following arguments are required: --model"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(no_quote, args, message):
    with pytest.raises(CommandError) as refused:
        simulate("quote", *args)

    assert message in str(refused.value)
    assert no_quote == []
