"""The graph tool: draw a picture in the user's taste (the user comes from the run config)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool

from confidante.tools.factory import make_tool
from confidante.tools.imagine.generate import GenerationOptions
from confidante.tools.imagine.imagine import Imaginer
from confidante.tools.memory_tools import user_of


def imagine_tools(
    imaginer: Imaginer | Callable[[], Imaginer],
    *,
    alpha: float = 0.5,
    options: GenerationOptions | None = None,
) -> list[BaseTool]:
    """Return the ``generate_image`` tool (side-effecting: it stores the chosen picture).

    Args:
        imaginer: A ready :class:`Imaginer`, or a function building one; a function is called
            on the tool's first use (loading a diffusion model is slow), once.
        alpha: Weight of the preference score when choosing among candidates.
        options: Sampling options.
    """
    loaded: list[Imaginer] = [imaginer] if isinstance(imaginer, Imaginer) else []
    lock = asyncio.Lock()

    async def ready() -> Imaginer:
        async with lock:
            if not loaded:
                assert callable(imaginer)
                loaded.append(await asyncio.to_thread(imaginer))
        return loaded[0]

    async def generate_image(request: str, config: RunnableConfig) -> str:
        """Draw a picture the user will like, e.g. "a poster for a sci-fi film"."""
        user_id = user_of(config)
        result = await (await ready()).aimagine(user_id, request, alpha=alpha, options=options)
        report = result.report
        best = report.candidates[report.chosen]
        taste = ", ".join(report.preference_keywords) or "no known taste yet"
        where = report.image_path or "not stored"
        return (
            f"drew {len(report.candidates)} candidates for {request!r} in the user's taste "
            f"({taste}); kept candidate {best.index} (z={best.z:.3f}); picture: {where}"
        )

    return [make_tool(generate_image, side_effect=True)]


__all__ = ["imagine_tools"]
