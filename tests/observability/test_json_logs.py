"""LOG_FORMAT=json writes one JSON object per line, with the ids of the work bound where known."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ballast.observability.json_logs import JsonFormatter
from bots.market_making import quoter
from bots.platform.log_context import log_context
from bots.venues import ccxt_errors as ccxt
from tests.support.quoting import break_venue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_lines():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_record_is_one_json_line_with_the_bound_ids(json_lines):
    log = logging.getLogger("bots.test")
    with log_context(market="btc-usdt", venue="binance"):
        with log_context(hedge=7, fill=41):
            log.warning("hedge\nlate %s", "again")
        log.warning("after the hedge")
    log.warning("outside", extra={"transfer": 3})
    first, second, third = json_lines()
    assert first["message"] == "hedge\nlate again"
    assert (first["level"], first["logger"]) == ("WARNING", "bots.test")
    assert {k: first[k] for k in ("market", "venue", "hedge", "fill")} == {
        "market": "btc-usdt", "venue": "binance", "hedge": 7, "fill": 41,
    }
    assert "hedge" not in second and second["market"] == "btc-usdt"
    assert "market" not in third and third["transfer"] == 3


def test_an_exception_is_in_the_line(json_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("bots.test").exception("failed")
    [line] = json_lines()
    assert "ValueError: boom" in line["exception"]


def test_log_context_refuses_an_unknown_id():
    with pytest.raises(TypeError, match="order"):
        with log_context(order=1):
            pass


def test_a_degraded_tick_logs_its_market_and_venue(json_lines, running_market, monkeypatch):
    break_venue(monkeypatch, running_market.mm_account, "fetch_open_orders", ccxt.NetworkError)
    quoter.run_tick(running_market.pk, on_hedge=lambda hedge_id: None)
    degraded = [line for line in json_lines() if "degraded" in line["message"]]
    assert degraded, json_lines()
    assert degraded[0]["market"] == "btc-usdt"
    assert degraded[0]["venue"] == running_market.mm_account.venue.name


def run_logging(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "import logging; logging.getLogger('bots.probe').warning('hello %s', 'ops')"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )


def test_log_format_json_makes_every_line_json():
    result = run_logging(LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    [line] = [json.loads(x) for x in result.stderr.splitlines() if "bots.probe" in x]
    assert line["message"] == "hello ops"


def test_the_plain_format_stays_the_default():
    result = run_logging()
    assert "WARNING bots.probe: hello ops" in result.stderr


def test_a_bad_log_format_names_the_variable():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env={**os.environ, "LOG_FORMAT": "xml"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be one of plain, json, not 'xml'" in result.stderr
