"""The graph tool: the assistant proposes follow-up searches for the user.

Like :mod:`confidante.tools.memory_tools`, the tool takes the user from the run's config
(``configurable.user_id``), never from the model's arguments. Inside a conversation it also
fits what the user just said: the agent stores each user message in the memory before a task
is planned, and the store reads the latest ones (``SuggestionStore.asuggest(...,
conversation=True)``), so "what should I search for about it?" after talking about a trip
gets searches about the trip, the user's own earlier searches about it first.
"""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool

from confidante.tools.factory import make_tool
from confidante.tools.memory_tools import user_of
from confidante.tools.suggest.store import SuggestionStore

__all__ = ["suggest_tools"]


def suggest_tools(store: SuggestionStore, *, k: int = 5) -> list[BaseTool]:
    """Return the query-suggestion tools bound to one store.

    Args:
        store: The suggestion store (its memory holds the users' activities).
        k: How many follow-up searches the tool proposes.
    """

    async def suggest_searches(config: RunnableConfig, queries: list[str] | None = None) -> str:
        """Suggest searches the user could look up next (ideas of what to search for).

        They fit the searches of this session (``queries``, oldest first; may be empty) and
        what the user has just been talking about, the user's own past searches first.
        """
        suggestions = await store.asuggest(
            user_of(config), queries or [], k=k, include_session=False, conversation=True
        )
        lines = [
            f"- {s.query}" + (f" (because of: {', '.join(s.entities)})" if s.entities else "")
            for s in suggestions
        ]
        return "\n".join(lines) or "no suggestions"

    return [make_tool(suggest_searches)]
