"""What learning alone writes: the write path's facts and updates, without replies.

A quicker view of the write path than ``write_path.py`` (EVAL.md §7): every message of a
conversation that asks nothing (the turns without ``expect``) is stored as the user's turn
and learned from (:func:`confidante.memory.ingest.learning.learn`, the graph's ``remember``
node) on the configured chat model, the local one unless ``--model`` says otherwise; no reply
is generated, no question is asked and no route is chosen. What the memory holds at the end of
each conversation is scored as ``write_path.py`` scores it: fact recall and precision,
wrong-subject rate and update accuracy. Reads the write-path dev set format
(``benchmarks/data/write_path/FORMAT.md``).

    python benchmarks/write_path_learning.py --data benchmarks/data/write_path/later/dev_d.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import print_table
from _write_path_scoring import score_facts
from rich.progress import Progress
from write_path import DATA, load, stored_facts

from confidante.memory.ingest.learning import learn
from confidante.memory.store import Memory
from confidante.models import build_chat_model
from confidante.settings import Settings

COUNTS = ("gold_current", "recalled", "stored", "precise", "wrong_subject", "updates", "updated")


async def learn_conversation(
    conversation: dict[str, Any], memory: Memory, model: Any
) -> dict[str, Any]:
    """Learn every statement of one conversation; returns its fact counts and seconds."""
    user = f"learn-{conversation['id']}"
    turns = [turn for session in conversation["sessions"] for turn in session]
    started = time.perf_counter()
    said = 0
    for number, session in enumerate(conversation["sessions"], 1):
        for turn in session:
            if "expect" in turn:
                continue
            event_id = await memory.aobserve(
                user, turn["say"], speaker="user", session_id=f"s{number}"
            )
            await learn(memory, model, user, event_id, turn["say"])
            said += 1
    counts = score_facts(turns, await stored_facts(memory, user))
    return {"counts": counts, "messages": said, "seconds": time.perf_counter() - started}


async def run(conversations: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """Learn every conversation; returns the figures and each conversation's counts."""
    model = build_chat_model(settings)
    memory = Memory.open(settings.resolved_database_url, settings=settings)
    records = {}
    with Progress() as progress:
        task = progress.add_task("conversations", total=len(conversations))
        for conversation in conversations:
            records[conversation["id"]] = await learn_conversation(conversation, memory, model)
            progress.advance(task)
    memory.close()
    total = {key: sum(r["counts"][key] for r in records.values()) for key in COUNTS}
    messages = sum(r["messages"] for r in records.values())

    def ratio(a: float, b: float) -> float:
        return round(a / b, 4) if b else 0.0

    return {
        "model": settings.model,
        "conversations": len(conversations),
        "messages": messages,
        "fact_recall": ratio(total["recalled"], total["gold_current"]),
        "fact_precision": ratio(total["precise"], total["stored"]),
        "wrong_subject_rate": ratio(total["wrong_subject"], total["stored"]),
        "update_accuracy": ratio(total["updated"], total["updates"]),
        "seconds_per_message": ratio(sum(r["seconds"] for r in records.values()), messages),
        "counts": total,
        "by_conversation": {key: r["counts"] for key, r in records.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, nargs="+", default=[DATA], help="dev set files or folder"
    )
    parser.add_argument("--limit", type=int, help="only the first N conversations")
    parser.add_argument("--model", help="chat model (default: the settings', i.e. local)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    conversations = load(args.data)[: args.limit]
    with tempfile.TemporaryDirectory() as folder:
        overrides: dict[str, Any] = {"data_dir": Path(folder)}
        if args.model:
            overrides["model"] = args.model
        result = asyncio.run(run(conversations, Settings(**overrides)))
    counts = result["counts"]
    rows = [
        ["fact recall", "fact_recall", f"{counts['recalled']} of {counts['gold_current']}"],
        ["fact precision", "fact_precision", f"{counts['precise']} of {counts['stored']}"],
        ["wrong subject", "wrong_subject_rate", f"{counts['wrong_subject']} stored"],
        ["update accuracy", "update_accuracy", f"{counts['updated']} of {counts['updates']}"],
        ["seconds per message", "seconds_per_message", f"{result['messages']} messages"],
    ]
    rows = [[label, result[key], count] for label, key, count in rows]
    print_table(
        ["metric", "value", "count"],
        rows,
        title=f"learning alone: {result['conversations']} conversations, model {result['model']}",
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
