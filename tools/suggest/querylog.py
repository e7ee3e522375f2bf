"""Reading query logs: TSV rows of ``user_id, timestamp, query`` (extra columns ignored).

A first row whose first cell is ``user_id`` is a header. Timestamps are ISO 8601
(``2006-03-01 22:18:57`` or with ``T`` and an offset; a time without offset is UTC).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from confidante.errors import InvalidInputError
from confidante.tools.suggest.profile import Activity
from confidante.tools.suggest.text import normalise_query

__all__ = ["QueryLog", "read_query_log"]


@dataclass
class QueryLog:
    """The queries of a log, per user and time-ordered, and how many rows were unusable."""

    users: dict[str, list[Activity]] = field(default_factory=dict)
    skipped: int = 0

    @property
    def queries(self) -> int:
        """The number of queries read."""
        return sum(len(activities) for activities in self.users.values())


def read_query_log(path: Path) -> QueryLog:
    """Read a TSV query log.

    Rows with fewer than three columns, an empty query or user, or an unreadable timestamp are
    skipped and counted.

    Raises:
        InvalidInputError: The file cannot be read or holds no usable row.
    """
    users: dict[str, list[Activity]] = defaultdict(list)
    skipped = 0
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.reader(handle, delimiter="\t")):
                if number == 0 and row and row[0].strip().lower() == "user_id":
                    continue
                if len(row) < 3 or not row[0].strip() or not normalise_query(row[2]):
                    skipped += 1
                    continue
                try:
                    at = datetime.fromisoformat(row[1].strip())
                except ValueError:
                    skipped += 1
                    continue
                users[row[0].strip()].append(Activity(text=row[2], at=at))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"cannot read the query log {path}: {exc}") from exc
    if not users:
        raise InvalidInputError(
            f"{path} holds no usable row (expected TSV: user_id, timestamp, query)"
        )
    for activities in users.values():
        activities.sort(key=lambda activity: activity.at)
    return QueryLog(dict(users), skipped)
