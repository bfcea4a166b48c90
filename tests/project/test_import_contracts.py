"""The import contracts of pyproject.toml hold (the engine is pure, the domain never imports the
web layer, no domain module imports a tasks module, capabilities are layered), so `make test` and
CI fail on what `make lint` would: a shape broken by a new import is caught before it lands."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    lint_imports = Path(sys.executable).with_name("lint-imports")

    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    for contract in contracts:
        assert f"{contract['name']} KEPT" in result.stdout
