"""Making tools, and the one place the side-effect flag is written and read.

A tool with side effects (it books, sends, saves or forgets something) pauses the graph for
the user's approval before each call (see :mod:`confidante.graphs.act`). The flag is stored
where langchain-core keeps a tool's extra facts, ``tool.metadata["side_effect"]``, so a tool
built elsewhere with ``metadata={"side_effect": True}`` counts too; code here sets it with
:func:`make_tool` or :func:`mark_side_effect` and reads it with :func:`has_side_effect`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

__all__ = ["SIDE_EFFECT", "has_side_effect", "make_tool", "mark_side_effect"]

#: The metadata key that marks a tool with side effects (the stored form of the flag).
SIDE_EFFECT = "side_effect"


def make_tool(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    side_effect: bool = False,
) -> BaseTool:
    """Return a langchain-core tool over a typed function (sync or async).

    Its argument schema comes from the signature and its description from the docstring
    (unless ``description`` is given); a ``config: RunnableConfig`` argument receives the
    run's config, where the user's id is (never take a user from the model's arguments).

    Args:
        function: The function the tool calls.
        name: The tool's name (default: the function's).
        description: What the model reads to decide when to call it (default: the docstring).
        side_effect: The call changes something, so the graph asks for approval first.
    """
    is_async = inspect.iscoroutinefunction(function)
    tool = StructuredTool.from_function(
        func=None if is_async else function,
        coroutine=function if is_async else None,
        name=name,
        description=description,
    )
    return mark_side_effect(tool) if side_effect else tool


def mark_side_effect(tool: BaseTool) -> BaseTool:
    """Return a copy of ``tool`` marked as having side effects (its other metadata kept)."""
    return tool.model_copy(update={"metadata": {**(tool.metadata or {}), SIDE_EFFECT: True}})


def has_side_effect(tool: BaseTool | None) -> bool:
    """Return True when ``tool`` is marked as having side effects (False for None)."""
    return bool(tool is not None and (tool.metadata or {}).get(SIDE_EFFECT))
