"""Where a memory keeps its images: one folder per user, named by a hash of the user id."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from confidante._private import private_folder, write_private
from confidante.settings import default_data_dir

if TYPE_CHECKING:
    from confidante.memory.storage.database import Database


def default_images_dir(database: Database, data_dir: Path | None) -> Path:
    """Return where a memory keeps its images.

    Where the backend fixes one (beside a SQLite file: ``NAME-images``), else in
    ``data_dir/images`` (default: the platform's data directory).
    """
    beside = database.ops.images_dir(database.engine.url)
    return beside if beside is not None else (data_dir or default_data_dir()) / "images"


class ImageFiles:
    """The folder of stored images: one subfolder per user, named by a hash of the user id."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def user_folder(self, user_id: str) -> Path:
        """Return the folder of one user's images (the id is hashed: no path tricks)."""
        return self.root / hashlib.sha256(user_id.encode()).hexdigest()[:32]

    def save(self, user_id: str, item_id: str, png: bytes) -> Path:
        """Write an encoded PNG and return its path (written whole, then renamed)."""
        folder = self.user_folder(user_id)
        private_folder(folder)
        path = folder / f"{item_id}.png"
        partial = path.with_suffix(".partial")
        write_private(partial, png)
        partial.replace(path)
        return path

    def delete(self, path: str | None) -> None:
        """Delete one stored image file (nothing if it is gone or outside the folder)."""
        if path and Path(path).resolve().is_relative_to(self.root.resolve()):
            Path(path).unlink(missing_ok=True)

    def delete_user(self, user_id: str) -> None:
        """Delete all of a user's images."""
        shutil.rmtree(self.user_folder(user_id), ignore_errors=True)
