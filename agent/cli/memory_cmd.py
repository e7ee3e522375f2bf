"""``confidante memory``: list, search, add, edit and forget a user's memories."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from confidante.errors import ConfidanteError

if TYPE_CHECKING:
    from confidante.memory.store import Memory

memory_app = typer.Typer(help="Inspect and edit a user's memory.", no_args_is_help=True)
console = Console()

UserOption = Annotated[str, typer.Option("--user", "-u", help="Whose memory.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _memory() -> Memory:
    from confidante.cli.app import load_settings, quiet_libraries
    from confidante.memory.store import Memory

    quiet_libraries()
    return Memory.open(settings=load_settings())


def _print(items: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(items, default=str, indent=2))
        return
    table = Table("id", "key", "kind", "text", "score")
    for item in items:
        table.add_row(
            str(item["id"])[:12],
            str(item.get("key") or ""),
            str(item["kind"]),
            str(item["text"]),
            f"{item['score']:.2f}" if item.get("score") else "",
        )
    console.print(table)


def _run(action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except ConfidanteError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


@memory_app.command("list")
def list_items(user: UserOption, history: bool = False, as_json: JsonOption = False) -> None:
    """List a user's memories (add --history for replaced ones)."""
    memory = _memory()
    _run(
        lambda: _print(
            [h.model_dump() for h in memory.list_items(user, include_history=history)], as_json
        )
    )


@memory_app.command()
def search(user: UserOption, query: str, k: int = 10, as_json: JsonOption = False) -> None:
    """Search a user's memories."""
    memory = _memory()
    _run(lambda: _print([h.model_dump() for h in memory.retrieve(user, query, k=k)], as_json))


@memory_app.command()
def add(
    user: UserOption,
    text: str,
    key: Annotated[str | None, typer.Option(help="Stable slot, e.g. home_city.")] = None,
    kind: str = "fact",
) -> None:
    """Remember a fact for a user; prints its id."""
    memory = _memory()
    _run(lambda: print(memory.remember(user, text, key=key, kind=kind)))


@memory_app.command()
def edit(user: UserOption, item_id: str, text: str) -> None:
    """Replace the text of one memory (the audit log keeps the old text)."""
    memory = _memory()
    _run(lambda: print(memory.update(user, item_id, text=text).text))


@memory_app.command()
def forget(user: UserOption, item_id: str) -> None:
    """Forget one memory."""
    memory = _memory()
    _run(lambda: memory.forget(user, item_id))
