"""Files and folders only their owner may read: users' memories, raw turns and images.

A memory holds personal data, so confidante creates its folders ``0700`` and its files ``0600``
whatever the process's umask, and tightens a folder or database an earlier version made with
wider modes. SQLite gives a database's ``-wal`` and ``-shm`` files the mode of the database
itself, so creating the database file first covers them. On systems without POSIX modes
(Windows) the calls are harmless.
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path, *, tighten: bool = True) -> Path:
    """Create ``path`` and its missing parents owner-only; returns it.

    Args:
        path: The folder.
        tighten: Also make an existing ``path`` owner-only (right for confidante's own
            folders; never done to a folder that merely contains a database the user named).
    """
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        folder.chmod(FOLDER_MODE)  # mkdir's mode is filtered by the umask
    if tighten and path.stat().st_mode & 0o077:
        path.chmod(FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing (missing folders owner-only), and make it owner-only."""
    private_folder(path.parent, tighten=False)
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    os.close(descriptor)
    if path.stat().st_mode & 0o077:
        path.chmod(FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new owner-only file at ``path`` (replacing one that exists)."""
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
