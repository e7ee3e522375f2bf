"""Run concurrent remember workers and readers on one database and check what they left.

Used by ``tests/test_reliability_concurrency.py`` (small sizes) and ``benchmarks/soak.py``
(full sizes). :func:`run_concurrency` starts ``processes`` writer processes
(``remember_worker.py``) and ``readers`` reader processes (``reader_worker.py``), waits for the
writers, stops the readers, then audits the database with plain SQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from common import owner_tag  # noqa: E402
from remember_worker import item_text  # noqa: E402

from confidante.memory.storage.backends import backend_name  # noqa: E402
from confidante.memory.storage.database import normalise_url  # noqa: E402


@dataclass
class ConcurrencyReport:
    """What a concurrent run wrote and what the audit found (every count but writes must be 0).

    Attributes:
        processes: Writer processes.
        items_per_process: Remembers per writer.
        committed: Remembers that returned an id.
        distinct_expected: Distinct (user, text) pairs the writers asked for.
        rows: Current concept rows of the run's users afterwards.
        lost: Committed ids missing afterwards.
        duplicates: Extra rows for one (user, text).
        wrong_user: Rows whose owner differs from the user named in their text.
        id_mismatch: Committed ids reported for a user other than the one that owns the row.
        without_vector: Rows without a vector.
        reads: Reads done by the readers during the writes.
        foreign_reads: Items of another user returned to a reader.
        writer_failures: Writers that exited with an error.
        seconds: Wall time of the writes, process start-up included.
        write_seconds: The slowest writer's own time from its first to its last remember.
    """

    backend: str
    processes: int
    items_per_process: int
    committed: int = 0
    distinct_expected: int = 0
    rows: int = 0
    lost: int = 0
    duplicates: int = 0
    wrong_user: int = 0
    id_mismatch: int = 0
    without_vector: int = 0
    reads: int = 0
    foreign_reads: int = 0
    writer_failures: int = 0
    seconds: float = 0.0
    write_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return asdict(self)

    @property
    def ok(self) -> bool:
        """Whether nothing was lost, duplicated, misattributed or leaked."""
        bad = (self.lost, self.duplicates, self.wrong_user, self.id_mismatch)
        return (
            not any(bad)
            and not self.without_vector
            and not self.foreign_reads
            and not self.writer_failures
            and self.committed == self.processes * self.items_per_process
        )


def _spawn(script: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE / script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def run_concurrency(
    url: str,
    *,
    processes: int = 8,
    items: int = 150,
    users: int = 5,
    readers: int = 1,
    shared_every: int = 10,
    embedder: str = "hash",
    run_tag: str = "r",
    stop_dir: Path | None = None,
    env: dict[str, str] | None = None,
) -> ConcurrencyReport:
    """Run the writers and readers on ``url`` and audit the database (see the module doc)."""
    backend = backend_name(url)
    report = ConcurrencyReport(backend, processes, items)
    user_ids = [f"{run_tag}-user-{n}" for n in range(users)]
    joined = ",".join(user_ids)
    environment = dict(env if env is not None else os.environ)
    stop_file = (stop_dir or Path.cwd()) / f".stop-{run_tag}-{os.getpid()}"
    stop_file.unlink(missing_ok=True)
    common = ["--url", url, "--users", joined, "--embedder", embedder]
    reader_procs = [
        _spawn("reader_worker.py", [*common, "--stop-file", str(stop_file)], environment)
        for _ in range(readers)
    ]
    started = time.perf_counter()
    writers = [
        _spawn(
            "remember_worker.py",
            [
                *common,
                "--worker",
                str(w),
                "--items",
                str(items),
                "--shared-every",
                str(shared_every),
            ],
            environment,
        )
        for w in range(processes)
    ]
    committed: list[tuple[str, str, str]] = []  # (user, id, text)
    for w, writer in enumerate(writers):
        out, err = writer.communicate(timeout=1800)
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0] == "DONE":
                report.write_seconds = max(report.write_seconds, float(parts[1]))
            if parts and parts[0] == "OK":
                user, item_id, index = parts[1], parts[2], int(parts[3])
                committed.append((user, item_id, item_text(w, index, user, shared_every)))
        if writer.returncode != 0:
            report.writer_failures += 1
            report.errors.append(f"writer {w} exit {writer.returncode}: {err[-2000:]}")
    report.seconds = time.perf_counter() - started
    stop_file.touch()
    for reader in reader_procs:
        out, err = reader.communicate(timeout=300)
        for line in out.splitlines():
            if line.startswith("READS"):
                parts = line.split()
                report.reads += int(parts[1])
                report.foreign_reads += int(parts[3])
            elif line.startswith("VIOLATION"):
                report.errors.append(line)
        if reader.returncode not in (0, 1):
            report.errors.append(f"reader exit {reader.returncode}: {err[-2000:]}")
            report.foreign_reads += 0
    stop_file.unlink(missing_ok=True)
    report.committed = len(committed)
    _audit(url, user_ids, committed, report)
    return report


def _audit(
    url: str, user_ids: list[str], committed: list[tuple[str, str, str]], report: ConcurrencyReport
) -> None:
    """Compare the database with what the writers reported as committed."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT c.id, c.user_id, c.text, "
                    "(SELECT count(*) FROM concept_vectors v WHERE v.concept_id = c.id) "
                    "FROM concepts c WHERE c.valid_to IS NULL"
                )
            ).all()
    finally:
        engine.dispose()
    mine = [row for row in rows if row[1] in user_ids]
    report.rows = len(mine)
    by_id = {row[0]: row for row in mine}
    expected = {(user, body) for user, _, body in committed}
    report.distinct_expected = len(expected)
    pairs = Counter((row[1], row[2]) for row in mine)
    report.duplicates = sum(count - 1 for count in pairs.values() if count > 1)
    report.wrong_user = sum(1 for row in mine if not row[2].startswith(owner_tag(row[1])))
    report.without_vector = sum(1 for row in mine if row[3] < 1)
    for user, item_id, body in committed:
        row = by_id.get(item_id)
        if row is None:
            report.lost += 1
        elif row[1] != user or row[2] != body:
            report.id_mismatch += 1
    unexpected = set(pairs) - expected
    if unexpected:
        report.errors.append(f"{len(unexpected)} rows nobody wrote, e.g. {sorted(unexpected)[:2]}")
        report.wrong_user += len(unexpected)
