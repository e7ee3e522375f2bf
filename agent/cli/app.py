"""The ``confidante`` command: chat, demo and memory management.

Heavy modules are imported inside commands so that ``confidante --help`` answers at once.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from confidante.errors import ConfidanteError
from confidante.settings import Settings

app = typer.Typer(
    help="confidante: an assistant that knows its user.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

UserOption = Annotated[str, typer.Option("--user", "-u", help="Whose memory to use.")]
ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Chat model: local, scripted or openai:NAME (default: settings)."),
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default: CONFIDANTE_DATA_DIR).")
]


def quiet_libraries() -> None:
    """Keep model libraries offline and quiet (entry points only; never done on import)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    spec = importlib.util.find_spec("llama_index.core")
    if spec is not None and spec.submodule_search_locations:
        cache = Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def load_settings(model: str | None = None, data_dir: Path | None = None) -> Settings:
    """Build settings from the environment, overridden by command-line options."""
    overrides: dict[str, object] = {}
    if model:
        overrides["model"] = model
    if data_dir:
        overrides["data_dir"] = data_dir
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _print_reply_line(reply: str) -> None:
    print(" ".join(reply.split()), flush=True)


def _print_reply_rich(reply: str) -> None:
    console.print(f"[bold magenta]confidante>[/bold magenta] {escape(reply)}")


@app.command()
def chat(
    user: UserOption,
    session: Annotated[str, typer.Option(help="Conversation thread to continue.")] = "default",
    model: ModelOption = None,
    data_dir: DataDirOption = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show recalled memories (stderr).")
    ] = False,
) -> None:
    """Talk with the assistant. Without a terminal, reads one message per line from stdin."""
    quiet_libraries()
    from confidante._sync import run_sync
    from confidante.agent import Agent
    from confidante.cli.render import stream_turn

    settings = load_settings(model, data_dir)
    try:
        agent = Agent(user_id=user, settings=settings, session_id=session)
        if not sys.stdin.isatty():
            details = err_console if verbose else None
            for line in sys.stdin:
                if line.strip():
                    run_sync(stream_turn(agent, line.strip(), details, _print_reply_line))
            return
        console.print(f"[bold]confidante[/bold] — talking with [cyan]{user}[/cyan]. Ctrl-D ends.")
        while True:
            try:
                text = console.input("[bold green]you>[/bold green] ")
            except (EOFError, KeyboardInterrupt):
                console.print()
                return
            if text.strip():
                run_sync(stream_turn(agent, text.strip(), console, _print_reply_rich))
    except ConfidanteError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc


@app.command()
def demo(
    model: ModelOption = None,
    data_dir: DataDirOption = None,
    part: Annotated[str, typer.Option(hidden=True)] = "all",
) -> None:
    """Run the scripted multi-session demo on the configured model (default: local)."""
    quiet_libraries()
    from confidante.cli.demo import run_demo

    settings = load_settings(model, data_dir)
    try:
        run_demo(settings, console, part=part)
    except ConfidanteError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc


@app.command("setup")
def setup_models(model: ModelOption = None, data_dir: DataDirOption = None) -> None:
    """Prepare the configured models (assemble and verify the local model file) and exit."""
    quiet_libraries()
    from confidante.cli.demo import prepare_models

    settings = load_settings(model, data_dir)
    try:
        prepare_models(settings, console)
    except ConfidanteError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc


def _register_subcommands() -> None:
    from confidante.cli.keys_cmd import keys_app
    from confidante.cli.memory_cmd import memory_app
    from confidante.cli.serve_cmd import serve
    from confidante.cli.summarize_cmd import summarize

    app.add_typer(memory_app, name="memory")
    app.command("summarize")(summarize)
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")


_register_subcommands()
