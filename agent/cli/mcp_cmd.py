"""``confidante mcp``: serve the memory to MCP clients (stdio or streamable HTTP).

The server (:func:`confidante.integrations.mcp_server.build_mcp_server`) exposes remember,
recall and forget, plus the tools :func:`extra_tools` lists.

A desktop client runs it over stdio for one user, e.g. in its MCP configuration::

    {"command": "confidante", "args": ["mcp", "--user", "alice"]}

Over HTTP (``confidante mcp --transport http --port 8765`` serves
``http://127.0.0.1:8765/mcp``), every request must carry an API key
(``Authorization: Bearer cft_...``, made with ``confidante keys create --user alice``), and
the key decides whose memory is used; ``--user`` then accepts only that user's keys. The
command refuses to start while no key could ever be accepted. Keys, their checks and the
per-key limits are the HTTP API's (:mod:`confidante.server.mcp_http`); ``confidante serve``
serves the same endpoint at ``/mcp`` beside the API.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.markup import escape

from confidante.errors import ConfidanteError, ConfigurationError

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

    from confidante.memory.store import Memory
    from confidante.server.keys import KeyStore
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
    from confidante.integrations.mcp_server import mcp_extra_tools
    from confidante.models import build_chat_model
    from confidante.tools.defaults import default_tools

    return mcp_extra_tools(memory, default_tools(memory, settings, build_chat_model(settings)))


def require_a_key(keys: KeyStore, user: str | None) -> None:
    """Refuse to serve HTTP while no stored key could be accepted.

    Raises:
        ConfigurationError: No valid key (of ``user``, when given); the message says how to
            make one.
    """
    from confidante.memory.scopes import is_reserved_owner

    usable = [
        info
        for info in keys.list_keys(user)
        if info.revoked_at is None and not is_reserved_owner(info.user)
    ]
    if not usable:
        whose = f"user {user!r}" if user else "any user"
        raise ConfigurationError(
            f"no API key for {whose}: over HTTP every request needs one. Make it with "
            f"`confidante keys create --user {user or 'USER'}` and have the client send "
            "'Authorization: Bearer <key>' (or serve one user locally with --transport stdio)"
        )


def _serve_stdio(user: str, data_dir: Path | None) -> None:
    from confidante.cli.app import load_settings
    from confidante.integrations.mcp_server import build_mcp_server
    from confidante.memory.store import Memory

    settings = load_settings(data_dir=data_dir)
    memory = Memory.open(settings=settings)
    try:
        server = build_mcp_server(memory, user, extra_tools=extra_tools(memory, settings))
        server.run("stdio")
    finally:
        memory.close()


def _serve_http(user: str | None, data_dir: Path | None, host: str, port: int, path: str) -> None:
    from confidante.cli.app import load_settings
    from confidante.cli.serve_cmd import port_problem
    from confidante.memory.items import check_person_id
    from confidante.memory.store import Memory

    try:
        import uvicorn

        from confidante.server.keys import KeyStore
        from confidante.server.mcp_http import mcp_service, standalone_app
        from confidante.server.settings import ServerSettings
    except ImportError as exc:
        raise ConfigurationError(
            f"MCP over HTTP needs the server's extra ({exc}): "
            "pip install 'confidante[server,integrations]'"
        ) from exc
    if user is not None:
        check_person_id(user)
    if not path.startswith("/"):
        raise ConfigurationError(f"--path must begin with '/' (got {path!r})")
    problem = port_problem(host, port)
    if problem is not None:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {problem} (choose --port)")
    settings = cast(ServerSettings, load_settings(data_dir=data_dir, kind=ServerSettings))
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    try:
        keys = KeyStore(memory.database)
        keys.prepare()
        require_a_key(keys, user)
        tools = extra_tools(memory, settings)
        service = mcp_service(memory, keys, tools, admin_key=settings.admin_key, only_user=user)
        if service is None:
            raise ConfigurationError(
                "the MCP server needs the official mcp SDK: pip install 'confidante[integrations]'"
            )
        whose = f"{user}'s keys" if user else "any user's key, each its own memory"
        Console(stderr=True).print(
            f"serving MCP at http://{host}:{port}{path} ({escape(whose)}; "
            "send 'Authorization: Bearer <key>')"
        )
        uvicorn.run(
            standalone_app(service, settings, path), host=host, port=port, log_level="warning"
        )
    finally:
        memory.close()


def mcp(
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            "-u",
            help="stdio: the only user served (required). http: accept only this user's keys "
            "(default: any valid key, each for its own user's memory).",
            show_default=False,
        ),
    ] = None,
    transport: Annotated[
        Transport,
        typer.Option(
            "--transport",
            "-t",
            help="stdio, or streamable HTTP (every request needs an API key from "
            "`confidante keys create`).",
        ),
    ] = Transport.stdio,
    host: Annotated[str, typer.Option(help="HTTP: the address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP: the port.", min=1, max=65535)] = 8765,
    path: Annotated[str, typer.Option(help="HTTP: the endpoint's path.")] = "/mcp",
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory (default: settings).")
    ] = None,
) -> None:
    """Serve the memory over MCP (remember, recall, forget and more tools).

    stdio serves the one --user to a local client. HTTP serves whoever holds an API key
    (`Authorization: Bearer cft_...`; make one with `confidante keys create --user U`): the
    key decides whose memory, with the HTTP API's per-key limits. It refuses to start while
    there is no key. `confidante serve` offers the same endpoint at /mcp.
    """
    from confidante.cli.app import quiet_libraries

    quiet_libraries()
    err = Console(stderr=True)  # stdout belongs to the protocol on stdio
    try:
        if transport is Transport.http:
            _serve_http(user, data_dir, host, port, path)
        elif user is None:
            err.print("[red]error:[/red] stdio serves one user: pass --user USER")
            raise typer.Exit(2)
        else:
            _serve_stdio(user, data_dir)
    except ConfidanteError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
