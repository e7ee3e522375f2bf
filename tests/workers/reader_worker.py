"""Read every user's memory in a loop while writers run; report any foreign item seen.

Each read (``list_items`` and ``retrieve``) must return only texts carrying the reader's user
tag. Runs until ``--stop-file`` exists, then prints ``READS <n> VIOLATIONS <m>`` and exits
with status 1 if any foreign item was seen.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common import open_memory, owner_tag


def main() -> int:
    """Run the reader."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--users", required=True)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--embedder", default="hash")
    args = parser.parse_args()
    users = args.users.split(",")
    memory = open_memory(args.url, args.embedder)
    stop = Path(args.stop_file)
    reads = violations = 0
    round_ = 0
    while not stop.exists():
        for user in users:
            hits = memory.list_items(user)
            hits += memory.retrieve(user, f"worker {round_ % 8} likes topic", k=10)
            reads += 1
            for hit in hits:
                if not hit.text.startswith(owner_tag(user)):
                    violations += 1
                    print(f"VIOLATION {user} saw {hit.text!r}", flush=True)
        round_ += 1
        time.sleep(0.01)
    print(f"READS {reads} VIOLATIONS {violations}", flush=True)
    memory.close()
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
