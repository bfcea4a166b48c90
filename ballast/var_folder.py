"""The var folder and the files Ballast creates in it (the SQLite database, generated secrets, the
embedded Redis socket): readable by the user who runs Ballast only, folder 0700 and files 0600,
from the moment they exist rather than tightened afterwards."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def prepare(folder: Path, tighten: bool) -> Path:
    """Create `folder` 0700. An existing one is tightened only when `tighten` (Ballast's own
    default folder): a folder named in BALLAST_VAR_DIR may be shared with other things."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        tighten = True
    if tighten and folder.stat().st_uid == os.getuid():
        folder.chmod(0o700)
    return folder


def private_file(path: Path) -> Path:
    """An empty file created 0600 if missing; one Ballast made before this rule is tightened.
    SQLite gives its -wal and -shm files the database file's permissions."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
            path.chmod(0o600)
    return path


def local_secret(folder: Path, name: str) -> str:
    """A random secret kept in folder/name, for runs that set none in the environment."""
    path = folder / name
    if not path.exists():
        # Written to a private temporary file, then linked into place: a process starting at
        # the same moment finds no file or a whole one, never an empty one, and keeps the first.
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(50))
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    private_file(path)
    return path.read_text().strip()
