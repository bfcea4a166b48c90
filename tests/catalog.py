"""What each test file checks, read from its docstring: the list of tests nobody types by hand.

    .venv/bin/python -m tests.catalog                 # every test file under tests/
    .venv/bin/python -m tests.catalog tests/engine    # those under the paths given

Each line is a test file's path and the first paragraph of its module docstring. A test
(tests/project/test_docs_follow_the_code.py) keeps every test file's docstring present, so the list is
complete.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def files_under(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file():
            yield path
        else:
            yield from sorted(path.rglob("test_*.py"))


def summary(path: Path) -> str:
    """The first paragraph of the file's module docstring, on one line ("" if it has none)."""
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    return " ".join(docstring.split("\n\n")[0].split())


def catalog(paths: list[Path]) -> list[tuple[str, str]]:
    return [(str(path.resolve().relative_to(ROOT)), summary(path)) for path in files_under(paths)]


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or [ROOT / "tests"]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        print(f"no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    for name, text in catalog(paths):
        print(f"{name}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
