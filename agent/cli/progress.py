"""Progress of long CLI commands on stderr: a rich bar on a terminal, plain lines otherwise.

Loading a catalog, a log or a query log and generating summaries take minutes on real data;
without output they look hung. stdout keeps only the command's result, so progress never
mixes into what a script reads. Without a terminal (a pipe, a CI log) rich draws no bar, so
a plain line is written at most every ``every`` seconds, and at the end.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Advance(Protocol):
    """Advances the progress by a number of units done, optionally naming the latest one."""

    def __call__(self, count: int, detail: str = "") -> None:
        """Count ``count`` more units done; ``detail`` (on a terminal) names the current one."""


@contextlib.contextmanager
def progress(
    label: str, total: int, *, console: Console | None = None, every: float = 10.0
) -> Iterator[Advance]:
    """Show the progress of ``total`` units of work; yield the function that advances it.

    Args:
        label: What is being done ("loading the catalog").
        total: How many units (items, interactions, queries) in all.
        console: Where to write (default: a console on stderr).
        every: Without a terminal, the least number of seconds between two lines.
    """
    console = console or Console(stderr=True)
    if console.is_terminal:
        columns = (
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[detail]}"),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(label, total=total, detail="")

            def step(count: int, detail: str = "") -> None:
                bar.update(task, advance=count, detail=detail)

            yield step
        return
    started = shown = time.monotonic()
    done = 0

    def line() -> None:
        elapsed = time.monotonic() - started
        console.print(f"{label}: {done}/{total} ({elapsed:.0f} s)", highlight=False)

    def advance(count: int, detail: str = "") -> None:
        nonlocal done, shown
        done += count
        now = time.monotonic()
        if now - shown >= every and done < total:
            shown = now
            line()

    yield advance
    line()
