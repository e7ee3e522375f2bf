"""A writer killed (SIGKILL) mid-batch loses nothing it committed and half-writes nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

WRITER = """
import asyncio, sys
from confidante.memory.store import Memory
memory = Memory.open(sys.argv[1])
async def main():
    batch = 0
    while True:
        texts = [f"fact {batch}-{i}: the user likes thing {batch * 100 + i}" for i in range(40)]
        ids = await memory.aremember_many("writer", texts, batch_size=40)
        print("COMMITTED", " ".join(ids), flush=True)
        batch += 1
asyncio.run(main())
"""


def test_killed_writer_keeps_every_committed_item(tmp_path: Path, cli_env: dict[str, str]) -> None:
    database = tmp_path / "crash.db"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(database)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env,
    )
    committed: list[str] = []
    assert writer.stdout is not None
    for line in writer.stdout:
        committed.extend(line.split()[1:])
        if len(committed) >= 5 * 40:
            break
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    connection = sqlite3.connect(database)
    stored = {row[0] for row in connection.execute("SELECT id FROM concepts")}
    with_vector = {row[0] for row in connection.execute("SELECT concept_id FROM concept_vectors")}
    added = {row[0] for row in connection.execute("SELECT concept_id FROM audit_log")}
    assert set(committed) <= stored, "an item reported as committed is missing"
    assert stored == with_vector == added, "an item is half-written"
    assert len(stored) % 40 == 0, "a batch was partly written"
    fts = connection.execute("SELECT count(*) FROM concepts_fts").fetchone()[0]
    assert fts == len(stored)
