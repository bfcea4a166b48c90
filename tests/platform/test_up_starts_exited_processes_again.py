"""`manage.py up` keeps its processes running as a process manager would (ballast/supervisor.py):
a process that exits is started again and the others are left alone; one that keeps exiting
right after each start is a crash loop, and `up` gives up on it, naming it. Real child processes."""

from __future__ import annotations

import os
import sys
import time

from ballast.supervisor import Supervisor

# Exits at its first start, then runs: what beat does across a Redis restart.
ONCE = (
    "import os, sys, time\n"
    "flag = sys.argv[1]\n"
    "if not os.path.exists(flag):\n"
    "    open(flag, 'w').close()\n"
    "    sys.exit(1)\n"
    "time.sleep(60)\n"
)
STEADY = [sys.executable, "-c", "import time; time.sleep(60)"]


def poll_until(supervisor: Supervisor, done, seconds: float = 30) -> str | None:
    """Poll as `up` does until `done()` or a reason to stop; the reason (None if done)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reason = supervisor.poll()
        if reason or done():
            return reason
        time.sleep(0.05)
    raise AssertionError("neither done nor given up in time")


def test_an_exited_process_is_started_again_and_the_others_left_alone(tmp_path):
    said = []
    supervisor = Supervisor(
        {"beat": [sys.executable, "-c", ONCE, str(tmp_path / "flag")], "web": STEADY},
        dict(os.environ), said.append, delays=(0.1,),
    )
    supervisor.start_all()
    beat, web = supervisor.children["beat"], supervisor.children["web"]
    web_pid = web.process.pid
    try:
        reason = poll_until(supervisor, lambda: beat.starts == 2 and beat.process.poll() is None)
        time.sleep(0.5)
        assert supervisor.poll() is None
    finally:
        supervisor.stop_all(grace_seconds=5)

    assert reason is None
    assert beat.starts == 2 and web.starts == 1 and web.process.pid == web_pid
    assert said == ["beat exited with 1; starting it again in 0.1 s", "beat: starting it again"]
    assert beat.process.returncode is not None and web.process.returncode is not None  # stopped


def test_a_crash_loop_is_given_up_on_naming_the_process(tmp_path):
    said = []
    supervisor = Supervisor(
        {"worker": [sys.executable, "-c", "import sys; sys.exit(2)"], "web": STEADY},
        dict(os.environ), said.append, delays=(0.05, 0.1), give_up_after=3,
    )
    supervisor.start_all()
    try:
        reason = poll_until(supervisor, lambda: False)
    finally:
        supervisor.stop_all(grace_seconds=5)

    assert reason == (
        "worker exited with 2 3 times in a row, each within 60 s of starting: a crash loop; "
        "stopping the rest"
    )
    assert supervisor.children["worker"].starts == 3
    assert said[:2] == ["worker exited with 2; starting it again in 0.05 s", "worker: starting it again"]
    assert "worker exited with 2; starting it again in 0.1 s" in said  # the wait grows
    assert supervisor.children["web"].process.returncode is not None  # the rest stopped
