"""``confidante suggest``: suggest a user's next searches; ``suggest ingest`` reads a query log.

``confidante suggest --user U --session "q1" --session "q2" [--json] [--rerank]`` prints 10
suggestions with the entities that justified each. ``confidante suggest ingest FILE`` stores
a TSV query log (``user_id, timestamp, query``) in each user's own memory.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from confidante.errors import ConfidanteError, InvalidInputError

if TYPE_CHECKING:
    from confidante.tools.suggest import SuggestionStore

suggest_app = typer.Typer(
    help="Suggest a user's next searches from their session and their search history.",
    invoke_without_command=True,
)
console = Console()
err_console = Console(stderr=True)


def _store() -> SuggestionStore:
    from confidante.cli.app import load_settings, quiet_libraries
    from confidante.memory.store import Memory
    from confidante.tools.suggest import SuggestionStore

    quiet_libraries()
    return SuggestionStore(Memory.open(settings=load_settings()))


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {escape(str(exc))}")
    return typer.Exit(1)


@suggest_app.callback()
def suggest(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", "-u", help="Whose history.")] = None,
    session: Annotated[
        list[str] | None,
        typer.Option("--session", "-s", help="A query of the current session (repeat, in order)."),
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many suggestions.")] = 10,
    rerank: Annotated[
        bool, typer.Option("--rerank", help="Let the chat model (settings) rerank and rewrite.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Suggest the next searches of a user after the session's queries."""
    if ctx.invoked_subcommand is not None:
        return
    if not user:
        err_console.print("[red]error:[/red] --user is required")
        raise typer.Exit(2)
    store = _store()
    try:
        model = None
        if rerank:
            from confidante.cli.app import load_settings
            from confidante.models import build_chat_model
            from confidante.tools.suggest.rerank import rerank_model

            model = rerank_model(build_chat_model(load_settings()))
        suggestions = store.suggest(user, session or [], k, model=model)
    except ConfidanteError as exc:
        raise _fail(exc) from exc
    if as_json:
        payload = {
            "user": user,
            "session": session or [],
            "suggestions": [s.as_dict() for s in suggestions],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    table = Table("#", "suggestion", "because of", "from", "score")
    for rank, item in enumerate(suggestions, 1):
        table.add_row(
            str(rank),
            escape(item.query),
            escape(", ".join(item.entities)),
            ", ".join(item.sources),
            f"{item.score:.3f}",
        )
    console.print(table)


@suggest_app.command()
def ingest(
    file: Annotated[
        Path, typer.Argument(help="TSV: user_id, timestamp, query (extra columns ignored).")
    ],
    only: Annotated[
        list[str] | None, typer.Option("--user", "-u", help="Only this user (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Store a query log in each user's own memory (one memory item per distinct query)."""
    from confidante.tools.suggest.querylog import read_query_log

    try:
        log = read_query_log(file)
        store = _store()
        users = {u: a for u, a in log.users.items() if not only or u in only}
        if only and not users:
            raise InvalidInputError(f"no rows of {', '.join(only)} in {file}")
        from confidante.cli.progress import progress

        total = sum(len(a) for a in users.values())
        with progress("storing queries", total, console=err_console) as advance:
            for user_id, activities in users.items():
                store.record(user_id, activities)
                advance(len(activities))
    except ConfidanteError as exc:
        raise _fail(exc) from exc
    result = {
        "users": len(users),
        "queries": sum(len(a) for a in users.values()),
        "skipped_rows": log.skipped,
    }
    if as_json:
        print(json.dumps(result))
    else:
        console.print(
            f"stored {result['queries']} queries of {result['users']} users"
            f" ({log.skipped} unusable rows skipped)"
        )
