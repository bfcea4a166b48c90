"""The engine imports neither Django, Celery nor ccxt: any driver can run it bare."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import bots.engine

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("django", "celery", "ccxt")


def test_every_engine_module_is_found():
    names = {m.name for m in pkgutil.iter_modules(bots.engine.__path__)}

    assert {"rules", "matching", "quoting", "hedging", "books", "flow", "exposure"} <= names


def test_importing_the_engine_loads_no_django_celery_or_ccxt():
    modules = sorted(f"bots.engine.{m.name}" for m in pkgutil.iter_modules(bots.engine.__path__))
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
