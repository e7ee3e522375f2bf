"""``confidante serve``: the HTTP API and web chat (FastAPI on uvicorn)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True)


def port_problem(host: str, port: int) -> str | None:
    """Return why ``host:port`` cannot be listened on, or None when it can.

    uvicorn reports a busy port only after the application has started (and said so), so the
    command tries the address first, binding the way uvicorn does (``SO_REUSEADDR``, so a
    port left in TIME_WAIT by a server that just stopped still counts as free).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (use PostgreSQL for more than one).")
    ] = 1,
    model: Annotated[
        str | None, typer.Option(help="Chat model: local, scripted or openai:NAME.")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory.")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the OpenAI-compatible API, the memory API and the web chat at http://HOST:PORT/.

    MCP clients connect at http://HOST:PORT/mcp (streamable HTTP) with the same API keys.
    Settings come from CONFIDANTE_* variables like everywhere else (database URL, model...);
    CONFIDANTE_ADMIN_KEY enables the admin API. Make a user's key with `confidante keys create`.
    """
    from confidante.cli.app import quiet_libraries

    quiet_libraries()
    try:
        import uvicorn

        from confidante.server.settings import ServerSettings
    except ImportError as exc:
        err_console.print(
            f"[red]error:[/red] the server needs its extra ({escape(str(exc))}): "
            "pip install 'confidante[server]'"
        )
        raise typer.Exit(2) from exc
    if model:
        os.environ["CONFIDANTE_MODEL"] = model  # the workers read their settings from here
    if data_dir:
        os.environ["CONFIDANTE_DATA_DIR"] = str(data_dir.resolve())
    try:
        settings = ServerSettings()
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    from confidante.memory.storage.backends import operations_for

    if workers > 1 and not operations_for(settings.resolved_database_url).concurrent_writers:
        err_console.print(
            "[yellow]warning:[/yellow] several workers share one SQLite file; "
            "set CONFIDANTE_DATABASE_URL to a PostgreSQL database for real concurrency"
        )
    problem = port_problem(host, port)
    if problem is not None:
        err_console.print(
            f"[red]error:[/red] cannot listen on {escape(host)}:{port}: {escape(problem)} "
            "(is another server running there? choose another with --port)"
        )
        raise typer.Exit(1)
    err_console.print(f"confidante serving on http://{host}:{port}/ ({workers} worker(s))")
    uvicorn.run(
        "confidante.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=log_level == "debug",
    )
