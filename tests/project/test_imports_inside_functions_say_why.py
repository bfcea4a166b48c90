"""An import written inside a function says why it is there (a comment on its line, or on the
line just above its block of imports): a cycle it dodges, a registry not ready yet, a heavy
library kept off a path. Without one it belongs at the top of its module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(
    p for folder in ("ballast", "bots", "dashboard") for p in (ROOT / folder).rglob("*.py")
    if "migrations" not in p.parts
)


def unexplained_imports(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    found = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for sub in ast.walk(node):
            if not isinstance(sub, ast.Import | ast.ImportFrom):
                continue
            above = sub.lineno - 2  # the line before the import, 0-based
            while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
                above -= 1  # the import's block: one comment may explain several imports
            if "#" in lines[sub.lineno - 1] or (above >= 0 and lines[above].strip().startswith("#")):
                continue
            found.append(f"{path.relative_to(ROOT)}:{sub.lineno}: {lines[sub.lineno - 1].strip()}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_an_import_inside_a_function_says_why(path):
    assert unexplained_imports(path) == []
