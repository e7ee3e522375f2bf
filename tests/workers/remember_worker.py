"""Remember ``--items`` texts for overlapping users and print each committed id.

Item ``i`` of worker ``w`` belongs to ``users[(w + i) % len(users)]`` and its text starts with
that user's :func:`~common.owner_tag`. Every ``--shared-every``-th item is a text that every
worker writes for the same user (a cross-process race on deduplication). Output lines:
``OK <user> <id> <index>`` after each commit, then ``DONE <seconds>``.
"""

from __future__ import annotations

import argparse
import sys
import time

from common import open_memory, owner_tag


def item_text(worker: int, index: int, user: str, shared_every: int) -> str:
    """Return the text of one item (shared items are the same for every worker)."""
    if shared_every and index % shared_every == 0:
        return f"{owner_tag(user)}shared fact number {index // shared_every} about gardening"
    return f"{owner_tag(user)}worker {worker} item {index} likes topic {worker * 100_000 + index}"


def main() -> int:
    """Run the worker."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--users", required=True, help="comma-separated user ids")
    parser.add_argument("--shared-every", type=int, default=10)
    parser.add_argument("--embedder", default="hash")
    args = parser.parse_args()
    users = args.users.split(",")
    memory = open_memory(args.url, args.embedder)
    started = time.perf_counter()
    for index in range(args.items):
        user = users[(args.worker + index) % len(users)]
        item_id = memory.remember(user, item_text(args.worker, index, user, args.shared_every))
        print(f"OK {user} {item_id} {index}", flush=True)
    print(f"DONE {time.perf_counter() - started:.3f}", flush=True)
    memory.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
