"""``confidante usage --user U``: what a user's turns cost, per day and kind of model call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from confidante.errors import ConfidanteError, InvalidInputError

UserOption = Annotated[str, typer.Option("--user", "-u", help="The user whose usage to show.")]
DaysOption = Annotated[
    int, typer.Option("--days", min=1, max=366, help="How many days back (UTC).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default: CONFIDANTE_DATA_DIR).")
]


def usage(
    user: UserOption,
    days: DaysOption = 30,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Show a user's model calls, tokens and seconds per day and kind (reply, extraction...)."""
    from confidante.cli.app import load_settings, quiet_libraries

    quiet_libraries()
    from confidante.memory.store import Memory
    from confidante.usage_log import UsageLog

    settings = load_settings(None, data_dir)
    try:
        memory = Memory.open(settings=settings)
        try:
            rows = UsageLog(memory.database).daily(user, days=days)
        finally:
            memory.close()
    except ConfidanteError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2 if isinstance(exc, InvalidInputError) else 1) from exc
    if as_json:
        print(json.dumps([row.model_dump(mode="json") for row in rows]))
        return
    table = Table("day", "kind", "calls", "prompt", "completion", "total", "seconds")
    for row in rows:
        table.add_row(
            row.day.isoformat(),
            row.kind,
            str(row.calls),
            str(row.prompt_tokens),
            str(row.completion_tokens),
            str(row.total_tokens),
            f"{row.seconds:.2f}",
        )
    calls = sum(row.calls for row in rows)
    tokens = sum(row.total_tokens for row in rows)
    console = Console()
    console.print(table)
    console.print(f"{calls} model calls, {tokens} tokens in the last {days} days")
