"""Built-in tools over the user's own memory: search it, add and list reminders, forget.

Tools are langchain-core tools. They learn whose memory to use from the run's config
(``configurable.user_id``), which the graph sets, never from the model's arguments: a model
cannot ask a tool for another user's data. ``forget_memory`` has a side effect, so the graph
asks the user before it runs, and it emits a ``forgotten`` event.
"""

from __future__ import annotations

import re

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool

from confidante.errors import InvalidInputError
from confidante.graphs.events import emit
from confidante.memory.ingest.statements import STOPWORDS
from confidante.memory.store import Memory
from confidante.tools.factory import make_tool


def user_of(config: RunnableConfig) -> str:
    """Return the user id the graph put in the run's config."""
    user_id = (config.get("configurable") or {}).get("user_id")
    if not user_id:
        raise InvalidInputError("this tool needs configurable.user_id in the run config")
    return str(user_id)


def memory_tools(memory: Memory) -> list[BaseTool]:
    """Return the memory tools bound to one memory store."""

    async def search_memory(query: str, config: RunnableConfig) -> str:
        """Search what you know about the user. Use it to look up a fact before acting."""
        hits = await memory.aretrieve(user_of(config), query, k=5)
        return "\n".join(f"- {hit.text}" for hit in hits) or "nothing found"

    async def add_reminder(text: str, config: RunnableConfig, when: str = "") -> str:
        """Save a reminder for the user: what to do and, optionally, when."""
        attributes = {"when": when} if when else {}
        statement = f"Reminder: {text}" + (f" ({when})" if when else "")
        item_id = await memory.aremember(
            user_of(config), statement, kind="reminder", importance=0.7, attributes=attributes
        )
        return f"saved reminder {item_id[:8]}: {statement}"

    async def list_reminders(config: RunnableConfig) -> str:
        """List the user's saved reminders."""
        hits = await memory.alist_items(user_of(config), kinds=["reminder"])
        return "\n".join(f"- {hit.text}" for hit in hits) or "no reminders"

    return [
        make_tool(search_memory),
        make_tool(add_reminder, side_effect=True),
        make_tool(list_reminders),
    ]


_WORD = re.compile(r"[a-z0-9]{2,}")
#: Words of the asking itself ("what I told you about Jordan's ex"), not of what to forget.
_ASKING = frozenset(
    "told tell said say mentioned forget remember about what everything you your me my mine "
    "our we".split()
)


def forget_tool(memory: Memory) -> BaseTool:
    """Return ``forget_memory`` bound to one memory store."""

    async def forget_memory(what: str, config: RunnableConfig) -> str:
        """Forget something the user asks you to forget (the memories that say it)."""
        user_id = user_of(config)
        words = set(_WORD.findall(what.lower()))
        hits = await memory.aretrieve(user_id, what, k=6, fallback=False)
        # every memory that says all of what was named ("Jordan's ex": the turn and the fact),
        # else the best one saying most of it; never a merely similar memory ("Jordan is vegan")
        named = words - STOPWORDS - _ASKING
        shared = [len(named & set(_WORD.findall(hit.text.lower()))) for hit in hits]
        chosen = [hit for hit, n in zip(hits, shared, strict=True) if named and n == len(named)]
        best = max(range(len(hits)), key=lambda i: shared[i], default=None)
        if not chosen and best is not None and shared[best] * 2 > len(named):
            chosen = [hits[best]]
        for hit in chosen:
            await memory.aforget(user_id, hit.id)
        if not chosen:
            return f"nothing about {what!r} to forget"
        emit({"event": "forgotten", "items": [{"id": h.id, "text": h.text} for h in chosen]})
        return "forgot: " + "; ".join(hit.text for hit in chosen)

    return make_tool(forget_memory, side_effect=True)
