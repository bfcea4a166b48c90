"""README.md and docs/ name only code that exists: every file and folder, every
`path/file.py:function`, every dotted module path (`bots.engine.market_making.tick.decide`), every test file,
and every link between them resolves. So the fill's walk in docs/architecture.md cannot drift
from the code without this failing."""

from __future__ import annotations

import ast
import os
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP_DIRS = {".git", ".venv", "var", "test-artifacts", "__pycache__", "node_modules", "staticfiles"}

# A path in the repository: it starts with one of its top folders.
PATH = re.compile(
    r"(?<![\w./-])((?:ballast|bots|dashboard|tests|bench|static|templates|docs|\.ci)/[\w./*-]*)"
    r"(?::([A-Za-z_][\w.]*))?"
)
# A file named without its folder.
BARE_FILE = re.compile(r"(?<![\w./*-])([\w-]+\.(?:py|js|html|css))\b")
# A dotted Python path: a module, then names inside it (`ballast.asgi:application` too).
DOTTED = re.compile(r"(?<![\w./-])((?:ballast|bots|dashboard|tests|bench)(?:\.[A-Za-z_]\w*)+)(?::([A-Za-z_]\w*))?")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def docs_ids() -> list[str]:
    return [str(path.relative_to(ROOT)) for path in DOCS]


@cache
def file_names() -> frozenset[str]:
    names = set()
    for _folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        names.update(files)
    return frozenset(names)


@cache
def python_names(path: Path) -> dict[str, set[str]]:
    """Names defined at the top of a module ("" key) and inside each of its classes."""
    tree = ast.parse(path.read_text())
    names: dict[str, set[str]] = {"": set()}

    def targets(node) -> list[str]:
        found = []
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            found += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
        return found

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[""].add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            names[""].update(targets(node))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names[""].update((a.asname or a.name).split(".")[0] for a in node.names)
        if isinstance(node, ast.ClassDef):
            inside = names.setdefault(node.name, set())
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    inside.add(item.name)
                elif isinstance(item, (ast.Assign, ast.AnnAssign)):
                    inside.update(targets(item))
    return names


def defined_in(path: Path, dotted: str) -> bool:
    """Whether `dotted` (a name, or Class.attribute) is defined in the file at `path`."""
    parts = dotted.split(".")
    if path.suffix == ".py":
        names = python_names(path)
        if len(parts) == 1:
            return parts[0] in names[""]
        return len(parts) == 2 and parts[1] in names.get(parts[0], set())
    if path.suffix == ".js":
        name = re.escape(parts[-1])
        return re.search(rf"function\s+{name}\b|\b{name}\s*=", path.read_text()) is not None
    return False


def strip_code_blocks(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", strip_code_blocks(path.read_text()), flags=re.M)
    return {slug(h) for h in headings}


def named_paths(text: str) -> list[tuple[str, str | None]]:
    return [(m.group(1).rstrip("."), m.group(2)) for m in PATH.finditer(text)]


@pytest.mark.parametrize("doc", DOCS, ids=docs_ids())
def test_every_path_it_names_exists(doc):
    missing = []
    for name, inside in named_paths(doc.read_text()):
        if "*" in name:
            if not list(ROOT.glob(name)):
                missing.append(f"{name} (matches no file)")
            continue
        path = ROOT / name
        if not path.exists():
            missing.append(name)
        elif inside and not defined_in(path, inside):
            missing.append(f"{name}:{inside}")
    assert not missing, f"{doc.name} names what is not in the repository: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=docs_ids())
def test_every_file_named_without_its_folder_exists(doc):
    missing = sorted({m.group(1) for m in BARE_FILE.finditer(doc.read_text())} - file_names())
    assert not missing, f"{doc.name} names files that are nowhere in the repository: {missing}"


@cache
def task_names() -> frozenset[str]:
    """The Celery task names pinned in the tasks modules (`name="bots.tasks.hedge_fill"`): names
    that outlive the module they were first declared in, so docs may quote them."""
    names = set()
    for module in [*ROOT.glob("bots/*/tasks.py"), *ROOT.glob("dashboard/*/tasks.py")]:
        names.update(re.findall(r'@shared_task\(\s*name="([\w.]+)"', module.read_text()))
    return frozenset(names)


def resolve_dotted(dotted: str) -> str | None:
    """None if `dotted` names a module or something defined in one, or a pinned task name, else
    what is missing."""
    if dotted in task_names():
        return None
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        module = base.with_suffix(".py") if base.with_suffix(".py").exists() else base / "__init__.py"
        if module.exists():
            rest = ".".join(parts[cut:])
            if not rest or defined_in(module, rest):
                return None
            return f"{'.'.join(parts[:cut])} defines no {rest}"
    return f"no module {parts[0]}.{parts[1]}"


@pytest.mark.parametrize("doc", DOCS, ids=docs_ids())
def test_every_dotted_path_it_names_exists(doc):
    problems = []
    for match in DOTTED.finditer(doc.read_text()):
        dotted = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
        problem = resolve_dotted(dotted)
        if problem:
            problems.append(f"{dotted}: {problem}")
    assert not problems, f"{doc.name}: {problems}"


@pytest.mark.parametrize("doc", DOCS, ids=docs_ids())
def test_every_link_resolves(doc):
    broken = []
    for target in LINK.findall(strip_code_blocks(doc.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        name, _, anchor = target.partition("#")
        path = (doc.parent / name).resolve() if name else doc
        if not path.exists():
            broken.append(target)
        elif anchor and (path.suffix != ".md" or anchor not in anchors(path)):
            broken.append(target)
    assert not broken, f"{doc.name} links to what is not there: {broken}"


# Named in the walk but defined outside the repository (Channels, Plotly), or a parameter.
OUTSIDE_THE_REPOSITORY = {"group_send", "channels_redis", "Plotly.react", "Plotly.extendTraces", "on_hedge",
                          "watch_my_trades", "watch_order_book", "watch_orders"}  # ccxt.pro's methods


def walk_section() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text()
    start = text.index("## One fill, from the venue to the page")
    return text[start : text.index("\n## ", start + 1)]


def code_names(text: str) -> set[str]:
    """Backticked identifiers that look like code rather than words: snake_case, CamelCase,
    CONSTANTS, Class.attribute, each with any call's arguments dropped."""
    names = set()
    for span in re.findall(r"`([^`]+)`", text):
        name = re.sub(r"\(.*\)$", "", span)
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)?", name) or name.startswith("BALLAST_"):
            continue
        head = name.split(".")[0]
        if "." in name and not head.lstrip("_")[:1].isupper():
            continue  # transaction.on_commit, market.update: not ours to check
        if "_" in name or any(c.isupper() for c in name):
            names.add(name)
    return names


def test_the_fills_walk_names_only_what_its_files_define():
    walk = walk_section()
    files = {ROOT / name for name, _ in named_paths(walk) if (ROOT / name).is_file()}
    assert len(files) > 20, "the walk names its files"

    def defined(name: str) -> bool:
        for path in files:
            if defined_in(path, name):
                return True
            if path.suffix == ".py" and "." not in name:
                if any(name in members for members in python_names(path).values()):
                    return True  # a method, named without its class
        return False

    unknown = sorted(n for n in code_names(walk) - OUTSIDE_THE_REPOSITORY if not defined(n))
    assert not unknown, f"the walk names what none of its files define: {unknown}"


def test_the_checks_catch_what_is_not_there(tmp_path):
    assert named_paths("see `bots/hedging/capture.py:capture_fills`.") == [("bots/hedging/capture.py", "capture_fills")]
    assert defined_in(ROOT / "bots/hedging/capture.py", "capture_fills")
    assert not defined_in(ROOT / "bots/hedging/capture.py", "capture_every_fill")
    assert defined_in(ROOT / "bots/hedging/hedger.py", "_Run.go")
    assert not defined_in(ROOT / "bots/hedging/hedger.py", "_Run.went")
    assert defined_in(ROOT / "static/js/market.js", "draw")
    assert resolve_dotted("bots.engine.market_making.tick.decide") is None
    assert resolve_dotted("bots.engine.market_making.tick.decided") is not None
    assert resolve_dotted("bots.engine.nowhere") is not None
    assert slug("The dead man's switch") == "the-dead-mans-switch"
    assert slug("Overview (`/overview/`)") == "overview-overview"
    assert code_names("`capture_fills` `Hedge` `sending` `x.y` `_Run.go` `publish_it(force=True)`") == {
        "capture_fills", "Hedge", "_Run.go", "publish_it"
    }
