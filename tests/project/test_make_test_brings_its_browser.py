"""`make test` finds the browser tests' Chromium, installs it where it can (apt-get as root on
Debian, else Playwright's download), or says in one line what to install before the run.

Nothing is uninstalled or installed here: each test points PATH and PLAYWRIGHT_BROWSERS_PATH at
empty folders, so this machine's own Chromium is out of sight, and the install commands go to a
recorder that plays their effect (or their failure)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import chromium

ROOT = Path(__file__).resolve().parents[2]
PLAYWRIGHT = [sys.executable, "-m", "playwright", "install", "chromium"]
APT = [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]]


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bare(tmp_path):
    """An environment with no Chromium on its PATH and no Playwright download."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "playwright").mkdir()
    return {
        "PATH": str(tmp_path / "bin"),
        "HOME": str(tmp_path),
        "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "playwright"),
    }


class Installer:
    """Records the commands; a command in `works` succeeds and leaves a chromium on the PATH."""

    def __init__(self, bin_dir: str, works: tuple[str, ...] = ()):
        self.bin_dir, self.works, self.ran = Path(bin_dir), works, []

    def __call__(self, command, environ):
        self.ran.append(command)
        if " ".join(command) in self.works:
            if command[-1] == "chromium":
                executable(self.bin_dir / "chromium")
            return 0
        return 1


def test_without_root_or_debian_it_tries_playwright_then_says_in_one_line_what_to_install(
    bare, capsys
):
    installer = Installer(bare["PATH"])

    code = chromium.main(bare, is_root=False, is_debian=False, run=installer)

    assert code == 1
    assert installer.ran == [PLAYWRIGHT]
    err = capsys.readouterr().err
    assert err.strip() == chromium.HOW_TO_INSTALL
    assert len(err.strip().splitlines()) == 1
    assert "apt-get install chromium" in err and "playwright install chromium" in err


def test_as_root_on_debian_it_installs_debians_chromium(bare, capsys):
    installer = Installer(bare["PATH"], works=tuple(" ".join(c) for c in APT))

    assert chromium.main(bare, is_root=True, is_debian=True, run=installer) == 0

    assert installer.ran == APT
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Chromium for the browser tests: {bare['PATH']}/chromium"
    )


def test_as_root_on_debian_without_apt_it_falls_back_to_playwright(bare, capsys):
    installer = Installer(bare["PATH"], works=(" ".join(PLAYWRIGHT),))

    assert chromium.main(bare, is_root=True, is_debian=True, run=installer) == 0

    assert installer.ran == [APT[0], PLAYWRIGHT]  # the failed update stops the apt attempt


def test_as_root_elsewhere_it_does_not_run_apt_get(bare):
    installer = Installer(bare["PATH"])

    assert chromium.main(bare, is_root=True, is_debian=False, run=installer) == 1

    assert installer.ran == [PLAYWRIGHT]


def test_a_chromium_already_there_is_used_as_it_is(bare, tmp_path, capsys):
    installer = Installer(bare["PATH"])
    on_path = executable(Path(bare["PATH"]) / "chromium")
    chosen = executable(tmp_path / "elsewhere" / "chrome")

    assert chromium.main(bare, is_root=True, is_debian=True, run=installer) == 0
    assert chromium.find(bare) == str(on_path)
    assert chromium.find({**bare, "CHROMIUM": str(chosen)}) == str(chosen)
    assert installer.ran == []


def test_playwrights_own_download_is_found(bare):
    expected = chromium.playwrights_chromium(bare)  # None: nothing downloaded there yet
    assert expected is None
    answer = subprocess.run(
        [sys.executable, "-c", chromium.PLAYWRIGHTS_PATH],
        env=bare, capture_output=True, text=True, check=True,
    )
    download = executable(Path(answer.stdout.strip()))
    assert str(download).startswith(bare["PLAYWRIGHT_BROWSERS_PATH"])

    assert chromium.find(bare) == str(download)


def test_a_chromium_that_names_nothing_is_refused_without_installing(bare, capsys):
    installer = Installer(bare["PATH"])

    code = chromium.main({**bare, "CHROMIUM": "/nowhere/chromium"}, True, True, installer)

    assert code == 1
    assert installer.ran == []
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_make_test_finds_the_browser_before_pytest_starts():
    plan = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "MAKEFLAGS": ""},
    ).stdout.splitlines()
    browser = next(i for i, line in enumerate(plan) if "-m tests.support.chromium" in line)
    suite = next(i for i, line in enumerate(plan) if "-m pytest" in line)
    assert browser < suite
