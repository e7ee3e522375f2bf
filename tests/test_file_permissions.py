"""Personal data on disk is owner-only: folders 0700, files 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from confidante import Agent, Memory, Settings

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # the usual default: files 0644, folders 0755
    try:
        yield
    finally:
        os.umask(previous)


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_memory_checkpoints_and_images_are_owner_only(
    settings: Settings, loose_umask: None
) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.chat("My dog is called Biscuit.")
    agent.memory.remember_image("ana", Image.new("RGB", (8, 8), "red"), caption="a red square")
    agent.close()

    modes = _modes(settings.data_dir)
    assert "checkpoints.db" in modes
    assert sum(name.endswith(".db") for name in modes) >= 2  # the memory's database too
    assert any(name.endswith(".png") for name in modes)  # the image was written
    loose = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode & 0o077  # any group or other bit
    }
    assert loose == {}


def test_a_folder_the_user_chose_is_left_alone(tmp_path: Path, loose_umask: None) -> None:
    (tmp_path / "projects").mkdir()
    (tmp_path / "projects").chmod(0o755)
    memory = Memory.open(str(tmp_path / "projects" / "memory.db"))
    memory.remember("ana", "I live in Lisbon.")
    memory.close()
    assert stat.S_IMODE((tmp_path / "projects").stat().st_mode) == 0o755  # not ours to change
    assert stat.S_IMODE((tmp_path / "projects" / "memory.db").stat().st_mode) == 0o600


def test_data_from_an_earlier_version_is_tightened(settings: Settings, loose_umask: None) -> None:
    settings.data_dir.mkdir(parents=True)
    settings.data_dir.chmod(0o755)
    database = settings.data_dir / "old.db"
    database.touch()
    database.chmod(0o644)
    memory = Memory.open(f"sqlite:///{database}", settings=settings)
    memory.remember("ana", "I live in Lisbon.")
    memory.close()
    settings.ensure_dirs()
    assert stat.S_IMODE(settings.data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
