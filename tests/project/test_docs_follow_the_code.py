"""The docs' tables and lists follow the code instead of being kept by hand: README stays the
short front door linking every file of docs/, the quote settings table is the parameters' own,
the configuration table has every variable the settings read, the performance page quotes every
bench, and every test file says what it checks (the catalog, `python -m tests.catalog`)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from bots.engine.market_making.quote_config import GROUPS, PARAMS, Param
from tests.catalog import catalog

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"


def test_readme_is_the_short_front_door():
    lines = README.count("\n")
    assert lines <= 200, f"README.md has {lines} lines: move the detail to docs/"
    assert README.index("make demo") < README.index("make test") < README.index("\n## ")


def test_readme_links_every_file_of_docs():
    unlinked = [p.name for p in DOCS.glob("*.md") if f"(docs/{p.name}" not in README]
    assert not unlinked, f"README.md links no {unlinked}"


def _figure(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _bounds(param: Param) -> str:
    if param.choices:
        return " / ".join(param.choices)
    if param.kind is bool:
        return "on / off"
    unit = {"": "", "×": "", "%": " %"}.get(param.unit, f" {param.unit}")
    text = f"{_figure(param.minimum)} to {_figure(param.maximum)}{unit}"
    return text + ("; 0 = off" if param.off_at_zero else "")


def quote_settings_table() -> list[str]:
    """The market-making page's table of quote settings, as PARAMS says it."""
    rows = ["| parameter | default | bounds | meaning |", "|---|---|---|---|"]
    for group in GROUPS:
        rows.append(f"| **{group}** | | | |")
        rows += [
            f"| `{p.name}` ({p.label}) | {_figure(p.default)} | {_bounds(p)} | {p.help} |"
            for p in PARAMS
            if p.group == group
        ]
    return rows


def test_the_quote_settings_table_is_the_parameters_own():
    text = (DOCS / "market-making.md").read_text().splitlines()
    start = text.index("| parameter | default | bounds | meaning |")
    end = next(i for i in range(start, len(text) + 1) if i == len(text) or not text[i].startswith("|"))
    assert text[start:end] == quote_settings_table()


def test_the_configuration_table_has_every_variable_the_settings_read():
    settings_source = (ROOT / "ballast" / "settings.py").read_text()
    read = set(re.findall(r'\benv_\w+\(\s*"([A-Z0-9_]+)"', settings_source))
    assert len(read) > 25
    operations = (DOCS / "operations.md").read_text()
    table = operations[operations.index("## Configuration") :]
    listed = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", table, flags=re.M))
    assert read - listed == set(), "variables the settings read but docs/operations.md does not list"
    assert listed - read == set(), "variables docs/operations.md lists but the settings do not read"


def test_the_performance_page_quotes_every_bench():
    benches = [p for p in (ROOT / "bench").glob("*.py") if '__name__ == "__main__"' in p.read_text()]
    assert len(benches) > 5
    performance = (DOCS / "performance.md").read_text()
    unquoted = [p.name for p in benches if f"`.venv/bin/python bench/{p.name}" not in performance]
    assert not unquoted, f"docs/performance.md quotes no figure of {unquoted}"


def test_every_test_file_says_what_it_checks():
    entries = catalog([ROOT / "tests"])
    assert len(entries) > 100
    silent = [name for name, text in entries if not text]
    assert not silent, f"test files without a docstring (the catalog cannot list them): {silent}"
