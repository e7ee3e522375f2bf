"""The tools an assistant offers out of the box, beyond the memory tools.

:func:`default_tools` builds them over one memory, for ``confidante serve`` and
``confidante mcp``: recommendation (``recommend``, ``recommendation_feedback``, over the catalog
stored next to the memory), query suggestion (``suggest_searches``) and, when an image model is
configured (``CONFIDANTE_IMAGE_MODEL``), personalized image generation (``generate_image``,
loaded on first use). Every tool takes its user from the run config, never from its arguments.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from confidante.memory.store import Memory
from confidante.settings import Settings


def default_tools(memory: Memory, settings: Settings, model: BaseChatModel) -> list[BaseTool]:
    """Return the recommendation, query-suggestion and (if configured) image tools."""
    from confidante.tools.recommend import Recommender, recommend_tools
    from confidante.tools.suggest import SuggestionStore, suggest_tools

    tools = [*recommend_tools(Recommender(memory, model=model))]
    tools += suggest_tools(SuggestionStore(memory))
    image_model = settings.image_model
    if image_model:
        from confidante.tools.imagine import Imaginer, imagine_tools

        tools += imagine_tools(lambda: Imaginer.load(memory, model, image_model))
    return tools
