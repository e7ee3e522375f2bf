"""The ``confidante`` command: chat, demo and memory management.

Heavy modules are imported inside commands so that ``confidante --help`` answers at once.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any

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


def load_settings(
    model: str | None = None, data_dir: Path | None = None, kind: type[Settings] = Settings
) -> Settings:
    """Build settings from the environment, overridden by command-line options.

    Args:
        model: The chat model option.
        data_dir: The data directory option.
        kind: The settings class (``ServerSettings`` for commands that serve HTTP).
    """
    overrides: dict[str, object] = {}
    if model:
        overrides["model"] = model
    if data_dir:
        overrides["data_dir"] = data_dir
    try:
        return kind(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _print_reply_line(reply: str) -> None:
    print(" ".join(reply.split()), flush=True)


ApprovalsOption = Annotated[
    str | None,
    typer.Option(
        "--approvals",
        help="Tool calls with side effects: ask, approve or reject all. Default: ask on a "
        "terminal; without one (stdin piped) reject, since every input line is a message.",
        show_default=False,
    ),
]


def _policy_note(approval: Any, decision: str) -> None:
    """Say on stderr what happened to a call nobody was asked about (piped input)."""
    if decision == "approve":
        note = "approved (--approvals approve)"
    else:
        note = "rejected, not run (no terminal to ask; --approvals approve runs such calls)"
    err_console.print(f"[yellow]{escape(approval.tool)}[/yellow]: {escape(note)}")


@app.command()
def chat(
    user: UserOption,
    session: Annotated[str, typer.Option(help="Conversation thread to continue.")] = "default",
    model: ModelOption = None,
    data_dir: DataDirOption = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show recalled memories (stderr).")
    ] = False,
    approvals: ApprovalsOption = None,
) -> None:
    """Talk with the assistant. Without a terminal, reads one message per line from stdin.

    Piped input: every line is a message; tool calls follow --approvals (default reject).
    """
    quiet_libraries()
    from confidante._sync import run_sync
    from confidante.agent import Agent
    from confidante.cli.render import LiveReply, ask_decision, stream_turn

    if approvals not in {None, "ask", "approve", "reject"}:
        err_console.print("[red]error:[/red] --approvals is one of ask, approve, reject")
        raise typer.Exit(2)
    piped = not sys.stdin.isatty()
    if piped and approvals == "ask":
        err_console.print(
            "[red]error:[/red] --approvals ask needs a terminal; "
            "with piped input use --approvals approve or reject"
        )
        raise typer.Exit(2)
    settings = load_settings(model, data_dir)
    fixed = None if approvals in {None, "ask"} else {"decision": approvals}
    try:
        agent = Agent(user_id=user, settings=settings, session_id=session)
        if piped:
            policy = fixed or {"decision": "reject"}  # nobody to ask: a line is a message

            def by_policy(approval: Any) -> dict[str, Any]:
                _policy_note(approval, policy["decision"])
                return policy

            details = err_console if verbose else None
            while line := sys.stdin.readline():
                if line.strip():
                    run_sync(
                        stream_turn(
                            agent, line.strip(), details, _print_reply_line, decide=by_policy
                        )
                    )
            return
        console.print(f"[bold]confidante[/bold] — talking with [cyan]{user}[/cyan]. Ctrl-D ends.")
        while True:
            try:
                text = console.input("[bold green]you>[/bold green] ")
            except (EOFError, KeyboardInterrupt):
                console.print()
                return
            if text.strip():
                live = LiveReply(console)
                run_sync(
                    stream_turn(
                        agent,
                        text.strip(),
                        console,
                        live.done,
                        decide=(lambda _a: fixed) if fixed else partial(ask_decision, console),
                        on_token=live.token,
                    )
                )
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
    """Attach the command groups, each in its own module (they import heavy code lazily)."""

    def module(name: str) -> Any:
        return importlib.import_module(f"confidante.cli.{name}")

    app.add_typer(module("memory_cmd").memory_app, name="memory")
    app.add_typer(module("recommend_cmd").recommend_app, name="recommend")
    app.add_typer(module("suggest_cmd").suggest_app, name="suggest")
    app.command("summarize")(module("summarize_cmd").summarize)
    app.command("sweep")(module("sweep_cmd").sweep)
    app.command("usage")(module("usage_cmd").usage)
    app.command("mcp")(module("mcp_cmd").mcp)
    app.command("imagine")(module("imagine_cmd").imagine)
    app.command("serve")(module("serve_cmd").serve)
    app.add_typer(module("keys_cmd").keys_app, name="keys")


_register_subcommands()
