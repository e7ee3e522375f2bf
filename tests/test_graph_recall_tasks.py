"""``recall`` runs the raw turn's write and three reads side by side: every one is awaited.

Awaiting them one after another in ``finally`` left the reads unawaited when the write
raised: a read's own error was never seen ("Task exception was never retrieved").
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from confidante.errors import ConfidanteError
from confidante.graphs.nodes import GraphDeps, Nodes, settled
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings


class WriteFailed(ConfidanteError):
    """The raw turn could not be stored."""


class ReadFailed(RuntimeError):
    """A read of the turn failed too."""


async def test_a_failing_write_leaves_no_read_unawaited(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    memory = Memory.open(settings=settings)
    read_done = asyncio.Event()

    async def write(*args: Any, **kwargs: Any) -> str:
        raise WriteFailed("the database is read-only")

    async def read_safety(*args: Any, **kwargs: Any) -> list[Any]:
        await asyncio.sleep(0.05)  # still running when the write fails
        read_done.set()
        raise ReadFailed("the safety read failed as well")

    monkeypatch.setattr(memory, "arecord_event", write)
    monkeypatch.setattr(memory, "aslot_values", read_safety)
    unretrieved: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: unretrieved.append(context))
    nodes = Nodes(GraphDeps(memory=memory, model=ScriptedChatModel()))
    state: Any = {"messages": [HumanMessage("Hello there")], "user_id": "ana"}

    with caplog.at_level(logging.ERROR, logger="confidante.graphs.nodes"):
        with pytest.raises(WriteFailed):  # the first failure, as it is (not an ExceptionGroup)
            await nodes.recall(state, {"configurable": {"thread_id": "t"}})
        assert read_done.is_set(), "recall returned before the read had finished"
        await asyncio.sleep(0.1)
        gc.collect()
    loop.set_exception_handler(None)

    assert not [c for c in unretrieved if "never retrieved" in str(c.get("message"))]
    assert any(isinstance(r.exc_info and r.exc_info[1], ReadFailed) for r in caplog.records)
    memory.close()


async def test_settled_returns_every_result_in_order() -> None:
    async def value(x: int) -> int:
        await asyncio.sleep(0.01 * (3 - x))
        return x

    tasks = [asyncio.ensure_future(value(x)) for x in range(3)]
    assert await settled(*tasks) == [0, 1, 2]
