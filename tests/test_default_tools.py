"""The out-of-the-box tools of `serve` and `mcp`: recommend, suggest and (configured) imagine."""

from __future__ import annotations

import pytest
from langchain_core.runnables import RunnableConfig

from confidante.errors import NotFoundError
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings
from confidante.tools.defaults import default_tools


async def test_default_tools_take_the_user_from_the_config(settings: Settings) -> None:
    memory = Memory.open(settings=settings)
    try:
        tools = {tool.name: tool for tool in default_tools(memory, settings, ScriptedChatModel())}
        assert set(tools) == {"recommend", "recommendation_feedback", "suggest_searches"}
        assert tools["recommendation_feedback"].metadata == {"side_effect": True}
        config: RunnableConfig = {"configurable": {"user_id": "ana"}}
        with pytest.raises(NotFoundError, match="catalog is empty"):
            await tools["recommend"].ainvoke({"request": ""}, config=config)
        searched = await tools["suggest_searches"].ainvoke({"queries": ["jazz"]}, config=config)
        assert isinstance(searched, str)
        with_images = settings.model_copy(update={"image_model": "/models/sd"})
        names = [tool.name for tool in default_tools(memory, with_images, ScriptedChatModel())]
        assert "generate_image" in names
    finally:
        memory.close()
