"""The tool journal on every backend: claims are exclusive, results round-trip, users are apart."""

from __future__ import annotations

import asyncio

from confidante._sync import run_sync
from confidante.graphs.tool_journal import ToolJournal, call_key
from confidante.memory.store import Memory


async def _claim_together(journal: ToolJournal, key: str, times: int) -> list[object]:
    return list(await asyncio.gather(*(journal.aclaim("ana", key, "pay") for _ in range(times))))


def test_concurrent_claims_of_one_call_let_exactly_one_run(memory: Memory) -> None:
    journal = ToolJournal(memory.database)
    for attempt in range(5):
        key = call_key("ana", "thread", f"turn-{attempt}", "pay", {"amount": 10})
        claims = run_sync(_claim_together(journal, key, 4))
        winners = [claim for claim in claims if claim is None]
        assert len(winners) == 1, f"{len(winners)} of 4 concurrent claims may run the call"
        entry = run_sync(journal.alookup("ana", key))
        assert entry is not None and entry.status == "started"


def test_a_result_round_trips_and_stays_with_its_user(memory: Memory) -> None:
    journal = ToolJournal(memory.database)
    key = call_key("ana", "thread", "turn", "pay", {"amount": 10, "to": "Zoë"})
    assert run_sync(journal.aclaim("ana", key, "pay")) is None
    result = {"tool": "pay", "ok": True, "output": {"receipt": "r-1", "items": [1, 2]}}
    run_sync(journal.afinish("ana", key, result))
    entry = run_sync(journal.alookup("ana", key))
    assert entry is not None and entry.status == "done" and entry.result == result
    claimed = run_sync(journal.aclaim("ana", key, "pay"))
    assert claimed is not None and claimed.status == "done"
    assert run_sync(journal.alookup("bob", key)) is None
    assert memory.forget_user("bob")["tool_calls"] == 0
    assert memory.forget_user("ana")["tool_calls"] == 1
    assert run_sync(journal.alookup("ana", key)) is None


def test_finishing_after_forget_user_does_not_bring_the_journal_back(memory: Memory) -> None:
    journal = ToolJournal(memory.database)
    key = call_key("ana", "thread", "turn", "pay", {"amount": 10})
    assert run_sync(journal.aclaim("ana", key, "pay")) is None
    memory.forget_user("ana")  # during the call
    run_sync(journal.afinish("ana", key, {"tool": "pay", "ok": True, "output": "paid"}))
    assert run_sync(journal.alookup("ana", key)) is None
