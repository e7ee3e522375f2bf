"""``confidante sweep``: erase expired memories, and raw turns older than the retention setting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from confidante.errors import ConfidanteError, InvalidInputError

UsersOption = Annotated[
    list[str] | None,
    typer.Option("--user", "-u", help="A user to sweep (repeatable; default: every user)."),
]
KeepOption = Annotated[
    float | None,
    typer.Option(
        "--keep-turns-days",
        help="Erase raw turns stored more than this many days ago "
        "(default: CONFIDANTE_KEEP_TURNS_DAYS; unset keeps them forever).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default: CONFIDANTE_DATA_DIR).")
]


def sweep(
    user: UsersOption = None,
    keep_turns_days: KeepOption = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Erase expired memories (as ``forget`` does) and raw turns past their retention."""
    from confidante.cli.app import load_settings, quiet_libraries

    quiet_libraries()
    from confidante.memory.store import Memory

    settings = load_settings(None, data_dir)
    err_console = Console(stderr=True)
    days = keep_turns_days if keep_turns_days is not None else settings.keep_turns_days
    try:
        memory = Memory.open(settings=settings)
        try:
            report = memory.sweep(keep_turns_days=days, users=user)
        finally:
            memory.close()
    except ConfidanteError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2 if isinstance(exc, InvalidInputError) else 1) from exc
    if as_json:
        print(json.dumps(report.model_dump()))
        return
    Console().print(
        f"{report.expired} expired memories erased, {report.turns} raw turns erased "
        f"({report.copies} copies of them), {report.marked} memories marked as learned "
        "from erased turns"
    )
