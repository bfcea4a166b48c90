"""Celery beat runs each periodic task from one entry, at the interval its setting says."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def entries_written_in_settings() -> list[str]:
    """Every entry name settings.py writes into CELERY_BEAT_SCHEDULE, in every statement."""
    tree = ast.parse((ROOT / "ballast" / "settings.py").read_text())
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id == "CELERY_BEAT_SCHEDULE":
                    assert isinstance(node.value, ast.Dict), "entries as a dict literal"
                    names += [key.value for key in node.value.keys]
                elif (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "CELERY_BEAT_SCHEDULE"
                ):
                    names.append(ast.literal_eval(target.slice))
    return names


def test_no_entry_is_written_twice_so_none_is_silently_overwritten():
    written = Counter(entries_written_in_settings())
    assert written, "settings.py writes no beat entry"
    assert [name for name, count in written.items() if count > 1] == []
    assert set(written) == set(settings.CELERY_BEAT_SCHEDULE)


def test_each_task_has_one_entry_and_exists():
    from ballast.celery import app

    tasks_scheduled = Counter(e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values())
    assert [task for task, count in tasks_scheduled.items() if count > 1] == []
    assert set(tasks_scheduled) <= set(app.tasks)


def test_the_hedge_sweeper_runs_at_half_its_sweep_age():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "import json; from django.conf import settings; "
            "print(json.dumps(settings.CELERY_BEAT_SCHEDULE['hedge sweeper']))",
        ],
        cwd=ROOT,
        env={**os.environ, "BALLAST_HEDGE_SWEEP_SECONDS": "30"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout.strip().splitlines()[-1])
    assert entry == {"task": "bots.tasks.sweep_hedges", "schedule": 15.0}
