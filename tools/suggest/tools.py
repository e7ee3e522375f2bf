"""The graph tool: the assistant proposes follow-up searches for the user.

Like :mod:`confidante.tools.memory_tools`, the tool takes the user from the run's config
(``configurable.user_id``), never from the model's arguments.
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

    async def suggest_searches(queries: list[str], config: RunnableConfig) -> str:
        """Propose follow-up web searches for the user, given the searches of this session."""
        suggestions = await store.asuggest(user_of(config), queries, k=k, include_session=False)
        lines = [
            f"- {s.query}" + (f" (because of: {', '.join(s.entities)})" if s.entities else "")
            for s in suggestions
        ]
        return "\n".join(lines) or "no suggestions"

    return [make_tool(suggest_searches)]
