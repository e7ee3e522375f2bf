"""An MCP server over the memory, with the official ``mcp`` SDK (``MCPServer``).

Any MCP client (a desktop assistant, an IDE, another agent) gets these tools:

- ``remember(text, key=None, kind="fact")``: store a fact; returns its id;
- ``recall(query, k=5)``: the user's most relevant memories (structured: id, text, kind, key,
  score);
- ``forget(item_id)``: erase one memory;

plus any langchain-core tools passed as ``extra_tools`` (recommendation, query suggestion,
image generation...), exposed under their own names with the argument schema their model
sees. No tool takes a user argument; extra tools receive the user as ``configurable.user_id``
in their run config, the way confidante's graph calls them, so a client can never reach
another user's memory. Whose memory a call reads is the server's ``user``:

- a user id, fixed when the server starts (``confidante mcp --user U`` over stdio);
- :func:`key_user`: the user of the API key that authenticated the HTTP request carrying the
  call (``/mcp`` of ``confidante serve``, and ``confidante mcp --transport http``; see
  :mod:`confidante.server.mcp_http`, which checks the key).

Either way the id is checked on every call: a reserved owner (``@global``, ``@persona:NAME``)
is refused. The ``mcp`` package comes with ``pip install 'confidante[integrations]'``.

Example:
    >>> server = build_mcp_server(memory, "alice", extra_tools=[...])  # doctest: +SKIP
    >>> server.run("stdio")  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, cast

from pydantic import BaseModel, Field

from confidante.errors import ConfidanteError, ConfigurationError
from confidante.memory.items import check_person_id
from confidante.memory.store import Memory

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool
    from mcp.server.mcpserver import MCPServer

__all__ = [
    "RecalledMemory",
    "UserSource",
    "build_mcp_server",
    "key_user",
    "mcp_extra_tools",
    "tool_function",
]

#: Whose memory a tool call uses: a fixed user id, or a function asked on every call.
UserSource = str | Callable[[], str]

INSTRUCTIONS = (
    "Personal memory of one user. Call recall before answering anything that depends on the "
    "user's facts or preferences; call remember when the user states a lasting fact or "
    "preference; call forget only when the user asks to erase something."
)


class RecalledMemory(BaseModel):
    """One memory returned by ``recall``."""

    id: str = Field(description="The memory's id (pass it to forget).")
    text: str = Field(description="What is remembered.")
    kind: str = Field(description="fact, preference, reminder, document...")
    key: str | None = Field(description="Its stable slot, if any (e.g. home_city).")
    score: float = Field(description="Relevance to the query.")


def _server_class() -> type[MCPServer[Any]]:
    try:
        from mcp.server.mcpserver import MCPServer
    except ImportError as exc:
        raise ConfigurationError(
            "the MCP server needs the official mcp SDK: pip install 'confidante[integrations]'"
        ) from exc
    return MCPServer


def _tool_error(exc: ConfidanteError | str) -> Exception:
    from mcp.server.mcpserver.exceptions import ToolError

    return ToolError(str(exc))


def key_user() -> str:
    """Return the user of the API key that authenticated the MCP request being served.

    The key's user is the ``subject`` of the request's access token, which the SDK's
    ``AuthContextMiddleware`` makes available to the call (:mod:`confidante.server.mcp_http`
    puts it there after checking the key).

    Raises:
        ToolError: No key authenticated the request (the server was run without that check).
    """
    from mcp.server.auth.middleware.auth_context import get_access_token

    token = get_access_token()
    if token is None or not token.subject:
        raise _tool_error("no API key authenticated this request; whose memory is unknown")
    return token.subject


def _user_getter(user: UserSource) -> Callable[[], str]:
    """Return a function that gives each call's user, checked (a tool error if invalid)."""
    if isinstance(user, str):
        fixed = check_person_id(user)  # a bad --user fails at start, not on the first call
        return lambda: fixed

    def checked() -> str:
        try:
            return check_person_id(user())
        except ConfidanteError as exc:
            raise _tool_error(exc) from exc

    return checked


def mcp_extra_tools(memory: Memory, tools: Sequence[BaseTool]) -> list[BaseTool]:
    """Return what an MCP server serves besides remember/recall/forget.

    The memory's tools (reminders...) except ``search_memory``, which ``recall`` already
    serves, then ``tools`` (recommend, suggest...).
    """
    from confidante.tools.memory_tools import memory_tools

    own = [tool for tool in memory_tools(memory) if tool.name != "search_memory"]
    return [*own, *tools]


def tool_function(tool: BaseTool, user: UserSource) -> Callable[..., Coroutine[Any, Any, str]]:
    """Wrap a langchain-core tool as an async function the MCP SDK can register.

    The function's signature is the tool's ``tool_call_schema`` (what a model may pass: the
    run config and other injected arguments are not in it); calling it runs the tool with
    ``configurable.user_id`` set to the call's user (``user``, or what it returns).

    Raises:
        ConfigurationError: The tool's argument schema is not a pydantic model.
    """
    schema = tool.tool_call_schema
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise ConfigurationError(
            f"tool {tool.name!r}: its argument schema must be a pydantic model"
        )
    parameters = []
    for name, field in schema.model_fields.items():
        annotation = cast(Any, Annotated)[field.annotation, Field(description=field.description)]
        default = inspect.Parameter.empty if field.is_required() else field.get_default()
        parameters.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
    user_of = _user_getter(user)

    async def call(**arguments: Any) -> str:
        config = {"configurable": {"user_id": user_of()}}
        try:
            result = await tool.ainvoke(arguments, config=config)  # type: ignore[arg-type]
        except ConfidanteError as exc:
            raise _tool_error(exc) from exc
        if isinstance(result, str):
            return result
        content = getattr(result, "content", result)
        return content if isinstance(content, str) else json.dumps(content, default=str)

    call.__name__ = tool.name
    call.__doc__ = tool.description
    call.__signature__ = inspect.Signature(parameters, return_annotation=str)  # type: ignore[attr-defined]
    return call


def build_mcp_server(
    memory: Memory,
    user: UserSource,
    *,
    extra_tools: Sequence[BaseTool] = (),
    name: str = "confidante",
) -> MCPServer[Any]:
    """Build the MCP server over the memory (see the module docstring).

    Args:
        memory: The memory.
        user: Whose memory: a user id (the only user the server serves), or :func:`key_user`
            (each request's API key decides, behind :mod:`confidante.server.mcp_http`).
        extra_tools: More langchain-core tools to expose (they get the user from the config).
        name: The server's name, as clients show it.

    Raises:
        ConfigurationError: The ``mcp`` package is missing, or an extra tool is unusable.
        InvalidInputError: ``user`` is an invalid or reserved id.
    """
    server_class = _server_class()
    from mcp.types import ToolAnnotations

    user_of = _user_getter(user)
    # WARNING: the SDK configures the root logger when nobody has; a library never says INFO.
    server = server_class(name, instructions=INSTRUCTIONS, log_level="WARNING")

    async def remember(
        text: Annotated[str, Field(description="A self-contained statement about the user.")],
        key: Annotated[
            str | None, Field(description="A stable slot (e.g. home_city); replaces its value.")
        ] = None,
        kind: Annotated[str, Field(description="fact, preference, reminder...")] = "fact",
        ttl_days: Annotated[
            float | None,
            Field(gt=0, description="Forget it after this many days (e.g. a plan for a week)."),
        ] = None,
    ) -> str:
        """Remember a lasting fact or preference about the user; returns the memory's id."""
        try:
            ttl = None if ttl_days is None else timedelta(days=ttl_days)
            return await memory.aremember(
                user_of(), text, key=key, kind=kind, provenance=["mcp"], ttl=ttl
            )
        except ConfidanteError as exc:
            raise _tool_error(exc) from exc

    async def recall(
        query: Annotated[str, Field(description="What to look for, in plain words.")],
        k: Annotated[int, Field(ge=1, le=50, description="How many memories.")] = 5,
    ) -> list[RecalledMemory]:
        """Return the user's memories most relevant to a query, best first."""
        try:
            hits = await memory.aretrieve(user_of(), query, k)
        except ConfidanteError as exc:
            raise _tool_error(exc) from exc
        return [
            RecalledMemory(id=h.id, text=h.text, kind=h.kind, key=h.key, score=h.score)
            for h in hits
        ]

    async def forget(
        item_id: Annotated[str, Field(description="The id of the memory, from recall.")],
    ) -> str:
        """Erase one of the user's memories for good."""
        try:
            await memory.aforget(user_of(), item_id)
        except ConfidanteError as exc:
            raise _tool_error(exc) from exc
        return f"forgot {item_id}"

    writes = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)
    server.add_tool(remember, annotations=writes)
    server.add_tool(recall, annotations=ToolAnnotations(read_only_hint=True))
    server.add_tool(
        forget, annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True)
    )
    from confidante.tools.factory import has_side_effect  # langchain-core only when used

    for tool in extra_tools:
        side_effect = has_side_effect(tool)
        server.add_tool(
            tool_function(tool, user_of),
            name=tool.name,
            description=tool.description,
            annotations=ToolAnnotations(read_only_hint=not side_effect),
        )
    return server
