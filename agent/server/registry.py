"""Which tools the server offers besides the memory tools.

A tool factory takes the shared memory, settings and chat model and returns langchain-core
tools that read their user from ``configurable.user_id``. Every factory in
:data:`SERVER_TOOL_FACTORIES` is called once when ``confidante serve`` starts: its tools are
given to every user's agent (the graph may plan with them) and exposed at
``POST /v1/tools/{name}``. Applications embedding the server pass ``tools=`` to
:func:`confidante.server.create_app` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from confidante.memory.store import Memory
from confidante.settings import Settings
from confidante.tools.defaults import default_tools

ToolFactory = Callable[[Memory, Settings, BaseChatModel], Sequence[BaseTool]]

#: Factories of the tools ``confidante serve`` offers: by default recommend, suggest and
#: (with an image model configured) imagine, see :mod:`confidante.tools.defaults`.
SERVER_TOOL_FACTORIES: list[ToolFactory] = [default_tools]


def registered_tools(memory: Memory, settings: Settings, model: BaseChatModel) -> list[BaseTool]:
    """Build the tools of every registered factory."""
    tools: list[BaseTool] = []
    for factory in SERVER_TOOL_FACTORIES:
        tools.extend(factory(memory, settings, model))
    return tools
