"""The Chromium the browser tests drive: found here, and installed when this machine allows it.

`make test` runs `python -m tests.support.chromium` before pytest, so a fresh machine gets its browser
before the run starts: the one named by $CHROMIUM, else `chromium` on the PATH (Debian's is
/usr/bin/chromium), else the one `playwright install chromium` downloaded. With none of them,
as root on Debian it installs Debian's chromium with apt-get; elsewhere it runs
`playwright install chromium`. If that does not give a browser either, it prints one line
saying what to install and exits 1. The browser fixture (tests/conftest.py) and the benches ask
`find()` for the path, so every browser test launches the same one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

Runner = Callable[[list[str], Mapping[str, str]], int]

HOW_TO_INSTALL = (
    "No Chromium for the browser tests: install it before `make test` "
    "(Debian: `apt-get install chromium` as root; elsewhere: `.venv/bin/playwright install "
    "chromium`), or set CHROMIUM to a Chromium executable."
)
PLAYWRIGHTS_PATH = (
    "from playwright.sync_api import sync_playwright\n"
    "with sync_playwright() as p:\n"
    "    print(p.chromium.executable_path)\n"
)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def playwrights_chromium(environ: Mapping[str, str]) -> str | None:
    """The browser `playwright install chromium` put under PLAYWRIGHT_BROWSERS_PATH, if it did."""
    try:
        answer = subprocess.run(
            [sys.executable, "-c", PLAYWRIGHTS_PATH],
            env=dict(environ), capture_output=True, text=True, timeout=60, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    path = answer.stdout.strip()
    return path if answer.returncode == 0 and path and _executable(path) else None


def find(environ: Mapping[str, str] | None = None) -> str | None:
    """The Chromium to launch, or None. A CHROMIUM that names no executable is None: it was
    chosen on purpose, so nothing else stands in for it."""
    environ = os.environ if environ is None else environ
    chosen = environ.get("CHROMIUM", "").strip()
    if chosen:
        return chosen if _executable(chosen) else None
    on_path = shutil.which("chromium", path=environ.get("PATH", ""))
    return on_path or playwrights_chromium(environ)


def install_attempts(is_root: bool, is_debian: bool) -> list[list[list[str]]]:
    """The ways to get a browser, in order, each a list of commands: Debian's package where
    apt-get may run (Playwright's download stays the fallback, for mirrors out of reach), else
    Playwright's download."""
    playwright = [[sys.executable, "-m", "playwright", "install", "chromium"]]
    if is_root and is_debian:
        return [[["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]],
                playwright]
    return [playwright]


def _run(command: list[str], environ: Mapping[str, str]) -> int:
    env = {**environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False).returncode


def main(
    environ: Mapping[str, str] | None = None,
    is_root: bool | None = None,
    is_debian: bool | None = None,
    run: Runner = _run,
) -> int:
    """Print the browser's path and return 0, or print one line saying what to install and
    return 1. is_root and is_debian default to this machine's."""
    environ = os.environ if environ is None else environ
    chosen = environ.get("CHROMIUM", "").strip()
    path = find(environ)
    if path is None and chosen:
        print(f"CHROMIUM={chosen} is not an executable: point it at a Chromium, or unset it "
              "so that `make test` finds or installs one.", file=sys.stderr)
        return 1
    if path is None:
        is_root = os.geteuid() == 0 if is_root is None else is_root
        is_debian = Path("/etc/debian_version").exists() if is_debian is None else is_debian
        for commands in install_attempts(is_root, is_debian):
            print("Installing Chromium for the browser tests:",
                  " && ".join(" ".join(c) for c in commands), flush=True)
            if all(run(command, environ) == 0 for command in commands):
                path = find(environ)
            if path:
                break
    if path is None:
        print(HOW_TO_INSTALL, file=sys.stderr)
        return 1
    print(f"Chromium for the browser tests: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
