"""What Ballast creates under its var folder (the SQLite database, the generated secret key, the
embedded Redis socket) is readable by its own user only: the folder 0700, the files 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import redis

from ballast import var_folder
from ballast.embedded_redis import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_var_folder_and_its_files_are_private(tmp_path):
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=ROOT, env={**env, "BALLAST_VAR_DIR": str(var)}, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr

    assert mode(var) == 0o700
    files = [p for p in var.iterdir() if p.is_file()]
    assert {"ballast.sqlite3", "secret_key"} <= {p.name for p in files}
    assert {p.name: oct(mode(p)) for p in files if mode(p) & 0o077} == {}


def test_files_made_before_the_rule_are_tightened(tmp_path):
    database = tmp_path / "ballast.sqlite3"
    database.write_text("")
    database.chmod(0o644)
    secret = tmp_path / "secret_key"
    secret.write_text("kept")
    secret.chmod(0o644)

    var_folder.private_file(database)

    assert mode(database) == 0o600
    assert var_folder.local_secret(tmp_path, "secret_key") == "kept"
    assert mode(secret) == 0o600


def test_the_embedded_redis_socket_is_for_its_user_only(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis.sock").start()
    try:
        assert stat.S_ISSOCK(server.socket_path.stat().st_mode)
        assert mode(server.socket_path) == 0o600
        assert redis.Redis(unix_socket_path=str(server.socket_path)).ping()
    finally:
        server.stop()
