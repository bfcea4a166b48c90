"""Keep a set of child processes running, as a process manager would: `manage.py up` runs the
desk's processes through this.

A process that exits is started again after a short wait that grows while it keeps failing
(beat exits when Redis goes away, and a prefork worker may on losing it: the restart drill in
docs/operations.md saw both; each comes back by itself once Redis is back). A process that keeps
exiting soon after each start is in a crash loop that waiting will not mend (a bad setting, a
port taken): then the supervisor gives up and says which one, and `up` stops the rest.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

# Seconds before starting an exited process again, by how many quick exits in a row it has had.
RESTART_DELAYS = (1, 2, 5, 10, 30)
# An exit within this many seconds of its start counts as quick; a longer run clears the count.
STEADY_SECONDS = 60
# Quick exits in a row that make a crash loop.
GIVE_UP_AFTER = 6


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_exits: int = 0
    restart_at: float | None = None
    starts: int = 0


class Supervisor:
    def __init__(
        self,
        commands: dict[str, list[str]],
        env: dict[str, str],
        say: Callable[[str], None],
        delays: tuple[float, ...] = RESTART_DELAYS,
        steady_seconds: float = STEADY_SECONDS,
        give_up_after: int = GIVE_UP_AFTER,
    ):
        self.children = {name: Child(name, command) for name, command in commands.items()}
        self.env = env
        self.say = say
        self.delays = delays
        self.steady_seconds = steady_seconds
        self.give_up_after = give_up_after

    def start_all(self) -> None:
        for child in self.children.values():
            self._start(child)

    def _start(self, child: Child) -> None:
        # Its own process group: a Ctrl-C reaches `up` once, and `up` stops the children in order.
        child.process = subprocess.Popen(child.command, env=self.env, start_new_session=True)
        child.started_at = time.monotonic()
        child.restart_at = None
        child.starts += 1

    def poll(self) -> str | None:
        """Start again what exited and is due; None while all is well, else why to stop."""
        now = time.monotonic()
        for child in self.children.values():
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self.say(f"{child.name}: starting it again")
                    self._start(child)
                continue
            code = child.process.poll()
            if code is None:
                if now - child.started_at >= self.steady_seconds:
                    child.quick_exits = 0
                continue
            if now - child.started_at < self.steady_seconds:
                child.quick_exits += 1
            else:
                child.quick_exits = 1
            if child.quick_exits >= self.give_up_after:
                return (
                    f"{child.name} exited with {code} {child.quick_exits} times in a row, each within "
                    f"{self.steady_seconds:g} s of starting: a crash loop; stopping the rest"
                )
            delay = self.delays[min(child.quick_exits, len(self.delays)) - 1]
            child.restart_at = now + delay
            self.say(f"{child.name} exited with {code}; starting it again in {delay:g} s")
        return None

    def stop_all(self, grace_seconds: float = 10) -> None:
        """SIGTERM to every child still running, then SIGKILL to those still there after the grace."""
        running = [c.process for c in self.children.values() if c.process and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
