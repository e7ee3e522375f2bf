"""A turn's checkpoints stay lean: recalled items are stored without their attributes."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from confidante import Agent, Memory, Settings

FACTS = [f"My favourite walk number {n} goes along the river to the old mill." for n in range(5)]
QUESTIONS = ["Which walks along the river do I like?", "Tell me about my river walks."]


def _stored_bytes(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        (stored,) = db.execute(
            "SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM checkpoints"
        ).fetchone()
        (written,) = db.execute("SELECT coalesce(sum(length(value)), 0) FROM writes").fetchone()
    return int(stored) + int(written)


def _growth(root: Path, attributes: dict[str, str]) -> tuple[int, int]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        config_file=root / "absent.toml",
        data_dir=root / "data",
        cache_dir=root / "cache",
        model="scripted",
        database_url=None,
    )
    memory = Memory.open(settings=settings)
    for fact in FACTS:
        memory.remember("ana", fact, attributes=attributes)
    agent = Agent(user_id="ana", settings=settings, memory=memory)
    recalled = 0
    for question in QUESTIONS:
        recalled += len(agent.turn(question).recalled)
    agent.close()
    memory.close()
    return _stored_bytes(settings.checkpoint_path), recalled


def test_large_attributes_do_not_enter_the_checkpoints(tmp_path: Path) -> None:
    plain, recalled = _growth(tmp_path / "plain", {})
    heavy, recalled_heavy = _growth(tmp_path / "heavy", {"notes": "x" * 15_000})
    assert recalled == recalled_heavy >= len(QUESTIONS) * 3  # the facts were recalled
    # 5 items x 15 KB recalled at every step would add hundreds of KB; only noise is allowed
    assert heavy - plain < 5_000, (plain, heavy)
