"""``confidante summarize``: bring the offline task-aware user summaries up to date."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from confidante.errors import ConfidanteError, InvalidInputError

if TYPE_CHECKING:
    from confidante.memory.summaries.job import JobReport

UsersOption = Annotated[
    list[str] | None,
    typer.Option("--user", "-u", help="A user to summarise (repeatable; default: every user)."),
]
TasksOption = Annotated[
    list[str] | None,
    typer.Option(
        "--task",
        "-t",
        help="chat, recommendation, search or image (repeatable; default: all four).",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Regenerate fresh summaries too.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Chat model: local, scripted or openai:NAME (default: settings)."),
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (default: CONFIDANTE_DATA_DIR).")
]


def _print_report(report: JobReport, as_json: bool) -> None:
    if as_json:
        payload = {
            "totals": report.totals(),
            "outcomes": [outcome.model_dump(exclude_none=True) for outcome in report.outcomes],
        }
        print(json.dumps(payload, indent=2))
        return
    console = Console()
    table = Table("user", "task", "status", "summary")
    for outcome in report.outcomes:
        if outcome.status in ("generated", "failed"):
            detail = outcome.text if outcome.status == "generated" else outcome.error
            table.add_row(outcome.user_id, outcome.task, outcome.status, escape(detail or ""))
    if table.rows:
        console.print(table)
    console.print(", ".join(f"{count} {status}" for status, count in report.totals().items()))


def summarize(
    user: UsersOption = None,
    task: TasksOption = None,
    force: ForceOption = False,
    as_json: JsonOption = False,
    model: ModelOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Generate stale or missing user summaries; fresh ones are skipped, so reruns resume."""
    from confidante.cli.app import load_settings, quiet_libraries
    from confidante.cli.progress import progress

    quiet_libraries()
    from confidante.memory.store import Memory
    from confidante.memory.summaries.job import SummaryJob
    from confidante.models import build_chat_model
    from confidante.usage_log import UsageLog

    settings = load_settings(model, data_dir)
    err_console = Console(stderr=True)
    try:
        memory = Memory.open(settings=settings)
        try:
            job = SummaryJob(
                memory,
                build_chat_model(settings),
                users=user,
                tasks=task,
                force=force,
                progress=partial(progress, console=err_console),
                keep_turns_days=settings.keep_turns_days,
                usage_log=UsageLog(memory.database),
            )
            report = job.run()
        finally:
            memory.close()
    except ConfidanteError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2 if isinstance(exc, InvalidInputError) else 1) from exc
    _print_report(report, as_json)
    if report.count("failed"):
        raise typer.Exit(1)
