"""``confidante mcp``: serve one user's memory to MCP clients (stdio or streamable HTTP).

The server (:func:`confidante.integrations.mcp_server.build_mcp_server`) exposes remember,
recall and forget, plus the tools :func:`extra_tools` lists, all bound to ``--user``.

A desktop client runs it over stdio, e.g. in its MCP configuration::

    {"command": "confidante", "args": ["mcp", "--user", "alice"]}

Over HTTP: ``confidante mcp --user alice --transport http --port 8765`` serves
``http://127.0.0.1:8765/mcp``. It has no authentication: keep it on localhost or behind a
proxy that authenticates, since whoever reaches it reads and edits that user's memory.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from confidante.errors import ConfidanteError

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from confidante.memory.store import Memory
    from confidante.settings import Settings


class Transport(StrEnum):
    """How clients reach the server."""

    stdio = "stdio"
    http = "http"


def extra_tools(memory: Memory, settings: Settings) -> list[BaseTool]:
    """Return the langchain-core tools served next to remember/recall/forget.

    Tools take the user from ``configurable.user_id`` (set by the server), never from their
    arguments: the memory's reminder tools and :func:`confidante.tools.defaults.default_tools`
    (recommend, suggest and, with an image model configured, imagine).
    """
    from confidante.models import build_chat_model
    from confidante.tools.defaults import default_tools
    from confidante.tools.memory_tools import memory_tools

    memory_extras = [tool for tool in memory_tools(memory) if tool.name != "search_memory"]
    return [*memory_extras, *default_tools(memory, settings, build_chat_model(settings))]


def mcp(
    user: Annotated[str, typer.Option("--user", "-u", help="The only user the server serves.")],
    transport: Annotated[
        Transport, typer.Option("--transport", "-t", help="stdio or streamable HTTP.")
    ] = Transport.stdio,
    host: Annotated[str, typer.Option(help="HTTP: the address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP: the port.", min=1, max=65535)] = 8765,
    path: Annotated[str, typer.Option(help="HTTP: the endpoint's path.")] = "/mcp",
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory (default: settings).")
    ] = None,
) -> None:
    """Serve a user's memory over MCP (remember, recall, forget and more tools)."""
    from confidante.cli.app import load_settings, quiet_libraries

    quiet_libraries()
    err = Console(stderr=True)  # stdout belongs to the protocol on stdio
    try:
        from confidante.integrations.mcp_server import build_mcp_server
        from confidante.memory.store import Memory

        settings = load_settings(data_dir=data_dir)
        memory = Memory.open(settings=settings)
        server = build_mcp_server(memory, user, extra_tools=extra_tools(memory, settings))
    except ConfidanteError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    try:
        if transport is Transport.stdio:
            server.run("stdio")
        else:
            err.print(f"serving {user}'s memory at http://{host}:{port}{path}")
            server.run("streamable-http", host=host, port=port, streamable_http_path=path)
    finally:
        memory.close()
