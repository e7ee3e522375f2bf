"""Tools the graph adds to the built-in memory tools: forgetting on the user's request.

Like :mod:`confidante.tools.memory_tools`, they take the user from the run's config
(``configurable.user_id``), never from the model's arguments. ``forget_memory`` has a side
effect, so the graph asks the user before it runs, and it emits a ``forgotten`` event.
"""

from __future__ import annotations

import re

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool

from confidante.graphs.events import emit
from confidante.memory.store import Memory
from confidante.tools.memory_tools import user_of

_WORD = re.compile(r"[a-z0-9]{3,}")


def forget_tool(memory: Memory) -> BaseTool:
    """Return ``forget_memory`` bound to one memory store."""

    async def forget_memory(what: str, config: RunnableConfig) -> str:
        """Forget something the user asks you to forget (their best-matching memory)."""
        user_id = user_of(config)
        words = set(_WORD.findall(what.lower()))
        for hit in await memory.aretrieve(user_id, what, k=3, fallback=False):
            if words & set(_WORD.findall(hit.text.lower())):  # never a merely similar memory
                await memory.aforget(user_id, hit.id)
                emit({"event": "forgotten", "items": [{"id": hit.id, "text": hit.text}]})
                return f"forgot: {hit.text}"
        return f"nothing about {what!r} to forget"

    return StructuredTool.from_function(
        coroutine=forget_memory, name="forget_memory", metadata={"side_effect": True}
    )
