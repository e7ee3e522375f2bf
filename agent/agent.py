"""The facade: ``Agent(user_id=...).chat(text)`` talks to an assistant that remembers.

An :class:`Agent` is one user's view of the assistant. It owns (or is given) the memory, the
chat model, the tools and the checkpointer, builds the graph once, and runs one graph turn
per message. ``achat``/``aturn`` are the async core; ``chat``/``turn`` their sync twins.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.tools import BaseTool
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from pydantic import BaseModel, Field

from confidante._sync import sync_twin
from confidante.graphs.builder import build_graph
from confidante.graphs.nodes import GraphDeps
from confidante.memory.extraction import learn
from confidante.memory.store import Memory, check_text, check_user_id
from confidante.models import build_chat_model
from confidante.settings import Settings
from confidante.tools.memory_tools import memory_tools


class TurnResult(BaseModel):
    """What one turn did.

    Attributes:
        reply: The assistant's answer.
        recalled: Memories retrieved for the turn (id, text, score...).
        remembered: Memory items written by the turn.
        route: ``chat`` or ``task``.
        plan: Tool steps of a task.
        results: Outcome of each tool step.
    """

    reply: str
    recalled: list[dict[str, Any]] = Field(default_factory=list)
    remembered: list[dict[str, Any]] = Field(default_factory=list)
    route: str = "chat"
    plan: list[dict[str, Any]] = Field(default_factory=list)
    results: list[dict[str, Any]] = Field(default_factory=list)


def thread_id_for(user_id: str, session_id: str) -> str:
    """Return the checkpoint thread of a user's session (unambiguous, reversible JSON)."""
    return json.dumps([user_id, session_id])


def user_of_thread(thread_id: str) -> str | None:
    """Return the user a checkpoint thread belongs to, or None for foreign threads."""
    try:
        value = json.loads(thread_id)
    except json.JSONDecodeError:
        return None
    return value[0] if isinstance(value, list) and len(value) == 2 else None


class Agent:
    """A personal assistant for one user.

    Args:
        user_id: Whose memory every turn reads and writes.
        settings: Configuration (default: read from ``CONFIDANTE_*`` variables).
        model: A langchain-core chat model (default: the one the settings name).
        memory: A memory store (default: the settings' database).
        tools: Extra tools for tasks, added to the built-in memory tools.
        session_id: The conversation thread; the same id resumes the conversation.
        background_extraction: Learn facts from a message after its turn has returned, so a
            reply never waits for extraction; :meth:`aflush` waits for what is pending.
    """

    def __init__(
        self,
        user_id: str,
        *,
        settings: Settings | None = None,
        model: BaseChatModel | None = None,
        memory: Memory | None = None,
        tools: Sequence[BaseTool] = (),
        session_id: str = "default",
        background_extraction: bool = False,
    ) -> None:
        self.user_id = check_user_id(user_id)
        self.session_id = session_id
        self.settings = settings or Settings()
        self.settings.ensure_dirs()
        self.memory = memory or Memory.open(settings=self.settings)
        self.model = model or build_chat_model(self.settings)
        self.tools = [*memory_tools(self.memory), *tools]
        self.deps = GraphDeps(
            memory=self.memory,
            model=self.model,
            tools=self.tools,
            recall_k=self.settings.recall_k,
            background_extraction=background_extraction,
        )
        self._graph: Any = None
        self._saver: AsyncSqliteSaver | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _ensure_graph(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._graph is None or self._loop is not loop:
            path = Path(self.settings.checkpoint_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = await aiosqlite.connect(str(path))
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA busy_timeout=30000")
            await connection.execute("PRAGMA secure_delete=ON")  # forget_user leaves no copy
            self._saver = AsyncSqliteSaver(connection)
            await self._saver.setup()
            self._graph = build_graph(self.deps, checkpointer=self._saver)
            self._loop = loop
        return self._graph

    def _config(self, session_id: str | None) -> dict[str, Any]:
        thread = thread_id_for(self.user_id, session_id or self.session_id)
        return {"configurable": {"thread_id": thread, "user_id": self.user_id}}

    async def aturn(self, text: str, *, session_id: str | None = None) -> TurnResult:
        """Run one turn and return everything it did."""
        text = check_text(text, "message")
        graph = await self._ensure_graph()
        state = await graph.ainvoke(
            {"messages": [HumanMessage(text)], "user_id": self.user_id},
            config=self._config(session_id),
        )
        return TurnResult(
            reply=state.get("reply", ""),
            recalled=state.get("recalled", []),
            remembered=state.get("remembered", []),
            route=state.get("route", "chat"),
            plan=state.get("plan", []),
            results=state.get("results", []),
        )

    async def achat(self, text: str, *, session_id: str | None = None) -> str:
        """Send a message and return the assistant's reply."""
        return (await self.aturn(text, session_id=session_id)).reply

    async def astream(self, text: str, *, session_id: str | None = None) -> Any:
        """Yield ``(node, update)`` pairs and custom memory events as the turn runs."""
        text = check_text(text, "message")
        graph = await self._ensure_graph()
        async for mode, chunk in graph.astream(
            {"messages": [HumanMessage(text)], "user_id": self.user_id},
            config=self._config(session_id),
            stream_mode=["updates", "custom"],
        ):
            yield mode, chunk

    async def aforget_user(self) -> dict[str, int]:
        """Erase this user's memory and conversation checkpoints."""
        await self._ensure_graph()
        assert self._saver is not None
        counts = await self.memory.aforget_user(self.user_id)
        cursor = await self._saver.conn.execute("SELECT DISTINCT thread_id FROM checkpoints")
        threads = [row[0] for row in await cursor.fetchall()]
        mine = [thread for thread in threads if user_of_thread(thread) == self.user_id]
        for thread in mine:
            await self._saver.adelete_thread(thread)
        await self._saver.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts["checkpoint_threads"] = len(mine)
        return counts

    async def aflush(self) -> None:
        """Wait until every fact extraction running in the background has finished."""
        while self.deps.pending:
            await asyncio.gather(*list(self.deps.pending), return_exceptions=True)

    async def aretry_extractions(self, limit: int = 50) -> int:
        """Learn again from this user's stored turns whose extraction failed; returns how many."""
        failed = await self.memory.aevents(
            self.user_id, extraction=["failed"], role="user", limit=limit
        )
        for event in failed:
            await learn(self.memory, self.model, self.user_id, event.id, event.text)
        return len(failed)

    async def aclose(self) -> None:
        """Wait for background extractions, then close the checkpoint connection."""
        await self.aflush()
        if self._saver is not None:
            await self._saver.conn.close()
            self._saver = None
            self._graph = None

    turn = sync_twin(aturn)
    chat = sync_twin(achat)
    forget_user = sync_twin(aforget_user)
    flush = sync_twin(aflush)
    retry_extractions = sync_twin(aretry_extractions)
    close = sync_twin(aclose)
