"""The engine imports neither Django, Celery nor ccxt: any driver can run it bare."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import bots.engine

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("django", "celery", "ccxt")


def engine_modules() -> list[str]:
    """Every module of the engine, its capability packages' modules included."""
    return sorted(m.name for m in pkgutil.walk_packages(bots.engine.__path__, "bots.engine."))


def test_every_engine_module_is_found():
    names = set(engine_modules())

    assert {
        "bots.engine.rules",
        "bots.engine.matching",
        "bots.engine.market_making.quoting",
        "bots.engine.hedging.hedge_order",
        "bots.engine.treasury.planner",
        "bots.engine.simulation.flow",
        "bots.engine.desk.liquidity",
    } <= names


def test_importing_the_engine_loads_no_django_celery_or_ccxt():
    modules = engine_modules()
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
