"""Run the summary job over every user with a slow scripted model, printing each model call.

Used by the crash test: the parent SIGKILLs this process while summaries are being written.
Settings come from ``CONFIDANTE_*`` variables (the test's data directory). Each model call
prints ``CALL <n>`` and then sleeps ``--delay`` seconds before answering by the default rules.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from confidante.memory.store import Memory
from confidante.memory.summaries.job import SummaryJob
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply
from confidante.settings import Settings


def main() -> int:
    """Run the job."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.05)
    args = parser.parse_args()
    calls = 0

    def slow(payload: dict[str, Any]) -> Any:
        nonlocal calls
        calls += 1
        print(f"CALL {calls}", flush=True)
        time.sleep(args.delay)
        return default_reply(payload)

    memory = Memory.open(settings=Settings())
    report = SummaryJob(memory, ScriptedChatModel(function=slow)).run()
    print(f"DONE {report.totals()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
