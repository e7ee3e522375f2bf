"""Concurrent writers and readers in separate processes, on one SQLite file and one PostgreSQL DB.

Eight writer processes remember items for overlapping users (texts tagged with their user;
some texts written by two processes at once for the same user) while a reader process reads
every user's memory in a loop. Afterwards every committed id must be present with its own
user and text, no (user, text) pair stored twice, every row with its vector, and the reader
must never have been handed another user's item. The long version: ``benchmarks/soak.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import fresh_postgres_database
from workers.concurrency import run_concurrency

from confidante.settings import Settings

PROCESSES = 8
ITEMS = 150


def _check(report_dict: dict[str, object], ok: bool) -> None:
    assert ok, report_dict


@pytest.mark.slow
def test_eight_processes_on_one_sqlite_file(settings: Settings, tmp_path: Path) -> None:
    url = settings.resolved_database_url
    report = run_concurrency(url, processes=PROCESSES, items=ITEMS, stop_dir=tmp_path)
    assert report.committed == PROCESSES * ITEMS
    assert report.lost == 0 and report.duplicates == 0 and report.wrong_user == 0
    assert report.rows == report.distinct_expected < report.committed  # shared texts deduped
    assert report.reads > 0 and report.foreign_reads == 0
    _check(report.as_dict(), report.ok)


@pytest.mark.slow
def test_eight_processes_on_one_postgres_database(postgres_admin_url: str, tmp_path: Path) -> None:
    with fresh_postgres_database(postgres_admin_url) as url:
        report = run_concurrency(url, processes=PROCESSES, items=ITEMS, stop_dir=tmp_path)
    assert report.committed == PROCESSES * ITEMS
    assert report.lost == 0 and report.duplicates == 0 and report.wrong_user == 0
    assert report.rows == report.distinct_expected < report.committed
    assert report.reads > 0 and report.foreign_reads == 0
    _check(report.as_dict(), report.ok)
