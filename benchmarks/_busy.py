"""A busy neighbour for latency benchmarks: processes that keep every core busy meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def busy_neighbour(processes: int | None = None) -> Iterator[int]:
    """Run ``processes`` (default: one per core) spinning Python processes while inside.

    Yields the number of processes; they are killed (by their own handles) on exit.
    """
    count = processes or os.cpu_count() or 2
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(0.5)  # let them reach the run queue
        yield count
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()
