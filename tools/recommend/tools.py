"""Graph tools over the recommender: ``recommend`` and ``recommendation_feedback``.

Like :mod:`confidante.tools.memory_tools`, the user comes from the run's config
(``configurable.user_id``), never from the model's arguments.
"""

from __future__ import annotations

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool

from confidante.tools.factory import make_tool
from confidante.tools.memory_tools import user_of
from confidante.tools.recommend.service import Recommender


def recommend_tools(recommender: Recommender) -> list[BaseTool]:
    """Return the recommendation tools bound to one recommender."""

    async def recommend(config: RunnableConfig, request: str = "", k: int = 5) -> str:
        """Recommend catalog items (movies, books, products) the user is likely to enjoy.

        ``request`` is what the user asked for now (e.g. "something funny", may be empty),
        ``k`` how many items (1 to 20).
        """
        found = await recommender.arecommend(
            user_of(config), max(1, min(k, 20)), query=request.strip() or None
        )
        return "\n".join(
            f"- {r.item.title} [{r.item.id}]" + (f": {r.reason}" if r.reason else "") for r in found
        ) or ("nothing to recommend")

    async def recommendation_feedback(item_id: str, accepted: bool, config: RunnableConfig) -> str:
        """Remember that the user accepted or rejected a recommended item (by its id)."""
        await recommender.afeedback(user_of(config), item_id, accepted)
        return f"noted: {'accepted' if accepted else 'rejected'} {item_id}"

    return [make_tool(recommend), make_tool(recommendation_feedback, side_effect=True)]
