"""Interaction logs: MovieLens ``ratings.csv``, the ``sequences`` text format, leave-last-out.

- :func:`load_movielens` reads a ``ratings.csv`` (``userId,movieId,rating,timestamp``) or the
  folder holding it; every rating is an implicit interaction, ordered by time (ties keep the
  file's order).
- :func:`load_sequences` reads one line per user, ``user_id item_id item_id ...`` in time
  order (the format of most next-item benchmarks); :func:`write_sequences` writes it.
- :func:`leave_last_out` splits each user's sequence: the last item is the test target, the
  one before it the validation target, the rest the history.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from confidante.errors import InvalidInputError


@dataclass
class InteractionLog:
    """Time-ordered item sequences per user, with the external ids of users and items.

    Attributes:
        users: External user ids, one per sequence.
        sequences: Item indices (positions in ``items``) per user, oldest first.
        items: External item ids; an item's index is its position.
        ratings: Per user, the rating of each interaction when the log had one (else empty).
        times: Per user, the Unix time of each interaction when the log had one (else empty).
    """

    users: list[str] = field(default_factory=list)
    sequences: list[list[int]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    ratings: list[list[float]] = field(default_factory=list)
    times: list[list[float]] = field(default_factory=list)

    @property
    def n_items(self) -> int:
        """How many distinct items the log names."""
        return len(self.items)

    @property
    def n_interactions(self) -> int:
        """How many interactions in all."""
        return sum(len(s) for s in self.sequences)

    @classmethod
    def from_events(cls, events: Iterable[tuple[str, str, float, float | None]]) -> InteractionLog:
        """Build a log from ``(user, item, timestamp, rating)`` tuples in any order."""
        per_user: dict[str, list[tuple[float, int, str, float | None]]] = {}
        for order, (user, item, when, rating) in enumerate(events):
            per_user.setdefault(user, []).append((when, order, item, rating))
        log = cls()
        index: dict[str, int] = {}
        for user, rows in per_user.items():
            rows.sort(key=lambda row: (row[0], row[1]))
            sequence: list[int] = []
            for _, _, item, _ in rows:
                if item not in index:
                    index[item] = len(log.items)
                    log.items.append(item)
                sequence.append(index[item])
            log.users.append(user)
            log.sequences.append(sequence)
            rated = [row[3] for row in rows]
            log.ratings.append([r for r in rated if r is not None] if None not in rated else [])
            log.times.append([row[0] for row in rows])
        return log


def _csv_path(path: Path, name: str) -> Path:
    if path.is_dir():
        path = path / name
    if not path.is_file():
        raise InvalidInputError(f"no {name} at {path}")
    return path


def load_movielens(path: str | Path) -> InteractionLog:
    """Read MovieLens ratings (``ratings.csv`` or its folder) as implicit interactions.

    Raises:
        InvalidInputError: The file is missing or lacks the MovieLens columns.
    """
    source = _csv_path(Path(path), "ratings.csv")
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        needed = {"userId", "movieId", "timestamp"}
        if not needed <= set(reader.fieldnames or ()):
            raise InvalidInputError(f"{source} lacks the columns {sorted(needed)}")
        try:
            rows = [
                (
                    row["userId"],
                    row["movieId"],
                    float(row["timestamp"]),
                    float(row["rating"]) if row.get("rating") else None,
                )
                for row in reader
            ]
        except ValueError as exc:
            raise InvalidInputError(f"{source}: {exc}") from exc
    return InteractionLog.from_events(rows)


def load_sequences(path: str | Path) -> InteractionLog:
    """Read ``user_id item_id item_id ...`` lines (time order) into a log.

    Raises:
        InvalidInputError: The file is missing or a line names no item.
    """
    source = Path(path)
    if not source.is_file():
        raise InvalidInputError(f"no sequences file at {source}")
    log = InteractionLog()
    index: dict[str, int] = {}
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 2:
                raise InvalidInputError(f"{source}:{number}: a user with no items")
            sequence = []
            for item in parts[1:]:
                if item not in index:
                    index[item] = len(log.items)
                    log.items.append(item)
                sequence.append(index[item])
            log.users.append(parts[0])
            log.sequences.append(sequence)
            log.ratings.append([])
            log.times.append([])
    return log


def write_sequences(log: InteractionLog, path: str | Path) -> int:
    """Write a log in the sequences format; returns the number of lines written."""
    with Path(path).open("w", encoding="utf-8") as handle:
        for user, sequence in zip(log.users, log.sequences, strict=True):
            handle.write(" ".join([user, *(log.items[i] for i in sequence)]) + "\n")
    return len(log.users)


@dataclass
class Split:
    """A leave-last-out split of a log (users with fewer than 3 interactions are left out).

    Attributes:
        users: Row positions (in the log) of the evaluated users.
        history: Per evaluated user, the items before the validation item.
        validation: Per evaluated user, the second-to-last item.
        test: Per evaluated user, the last item.
    """

    users: list[int]
    history: list[list[int]]
    validation: list[int]
    test: list[int]

    def with_validation(self) -> list[list[int]]:
        """Histories extended by their validation item (the input when predicting the test)."""
        return [[*h, v] for h, v in zip(self.history, self.validation, strict=True)]


def leave_last_out(sequences: Sequence[Sequence[int]]) -> Split:
    """Split each sequence of 3 or more items into history, validation and test."""
    split = Split([], [], [], [])
    for row, sequence in enumerate(sequences):
        if len(sequence) < 3:
            continue
        split.users.append(row)
        split.history.append(list(sequence[:-2]))
        split.validation.append(sequence[-2])
        split.test.append(sequence[-1])
    return split
