"""Every Celery task carries its name in its decorator, so tasks queued before a deploy that moves
a module still find their function after it (a task's default name is its module path)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
TASK_MODULES = sorted(p for p in ROOT.glob("*/**/tasks.py") if ".venv" not in p.parts)


def _task_decorators(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                call = dec if isinstance(dec, ast.Call) else None
                func = call.func if call else dec
                if isinstance(func, ast.Name) and func.id == "shared_task":
                    yield node.name, call


@pytest.mark.parametrize("path", TASK_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_task_names_itself(path):
    unnamed = [
        fn for fn, call in _task_decorators(path)
        if call is None or not any(k.arg == "name" for k in call.keywords)
    ]
    assert unnamed == [], f"{path.name}: tasks without name=: {unnamed}"


def test_routes_and_beat_name_registered_tasks():
    from ballast.celery import app

    app.loader.import_default_modules()
    named = set(settings.CELERY_TASK_ROUTES) | {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert named - set(app.tasks) == set()


def test_a_fresh_worker_registers_every_task():
    """What a worker process loads at start (Celery's loader, which sets Django up and so runs
    the apps' ready()) registers every task a tasks module declares: a task queued by its name
    is never 'unregistered' in a worker that happens not to import its module."""
    declared = {
        next(k.value.value for k in call.keywords if k.arg == "name")
        for path in TASK_MODULES
        for _fn, call in _task_decorators(path)
    }
    code = (
        "from ballast.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print('\\n'.join(sorted(app.tasks)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "ballast.settings"},
    )

    assert declared - set(result.stdout.split()) == set()
