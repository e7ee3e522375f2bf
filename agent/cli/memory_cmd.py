"""``confidante memory``: list, search, add, edit, merge and forget a user's memories.

Also ``export``/``import`` (JSON, see :mod:`confidante.memory.portability.transfer`; ``import
--format mem0|letta|graphiti|langgraph`` reads another memory system's export, see
:mod:`confidante.integrations.importers`) and ``ingest``
(documents split into chunks with llama-index, see :mod:`confidante.memory.llama`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from confidante.errors import ConfidanteError, InvalidInputError

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


def _print(
    items: list[dict[str, object]], as_json: bool, about: dict[str, str] | None = None
) -> None:
    if as_json:
        print(json.dumps(items, default=str, indent=2))
        return
    table = Table("id", "about", "key", "kind", "text", "score")
    for item in items:
        table.add_row(
            str(item["id"])[:12],
            (about or {}).get(str(item.get("subject_id")), ""),
            str(item.get("key") or ""),
            str(item["kind"]),
            str(item["text"]),
            f"{item['score']:.2f}" if item.get("score") else "",
        )
    console.print(table)


def _about(memory: Memory, user: str) -> dict[str, str]:
    """Subject ids to their names, for the "about" column (empty: the user)."""
    return {s.id: s.name or f"({s.relation})" for s in memory.subjects(user)}


def _run(action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except ConfidanteError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc


def _say_if_empty(user: str, count: int) -> None:
    """Tell on stderr that a user has nothing (a mistyped --user looks exactly like this)."""
    if not count:
        Console(stderr=True).print(f"no memories for user {escape(repr(user))}")


@memory_app.command("list")
def list_items(user: UserOption, history: bool = False, as_json: JsonOption = False) -> None:
    """List a user's memories (add --history for replaced ones)."""
    memory = _memory()

    def show() -> None:
        items = [h.model_dump() for h in memory.list_items(user, include_history=history)]
        _print(items, as_json, _about(memory, user))
        _say_if_empty(user, len(items))

    _run(show)


@memory_app.command()
def subjects(user: UserOption, as_json: JsonOption = False) -> None:
    """List the people, pets, places and organisations a user's memory knows."""
    memory = _memory()

    def show() -> None:
        found = memory.subjects(user)
        if as_json:
            print(json.dumps([s.model_dump(mode="json") for s in found], indent=2))
            return
        table = Table("id", "name", "relation", "kind", "earlier names")
        for s in found:
            table.add_row(s.id[:12], s.name or "", s.relation or "", s.kind, ", ".join(s.aliases))
        console.print(table)

    _run(show)


ImageOption = Annotated[Path | None, typer.Option("--image", help="An image file.")]


@memory_app.command()
def search(
    user: UserOption,
    query: Annotated[str | None, typer.Argument(help="What to look for.")] = None,
    k: int = 10,
    image: ImageOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search a user's memories by text, by image (needs an image embedder) or both."""
    memory = _memory()
    _run(
        lambda: _print(
            [h.model_dump() for h in memory.retrieve(user, query, k=k, image=image)], as_json
        )
    )


@memory_app.command()
def add(
    user: UserOption,
    text: Annotated[str, typer.Argument(help="The fact (with --image: the image's caption).")],
    key: Annotated[str | None, typer.Option(help="Stable slot, e.g. home_city.")] = None,
    kind: str = "fact",
    image: ImageOption = None,
) -> None:
    """Remember a fact, or an image with its caption, for a user; prints its id."""
    memory = _memory()
    if image is not None:
        _run(lambda: print(memory.remember_image(user, image, caption=text, key=key)))
        return
    _run(lambda: print(memory.remember(user, text, key=key, kind=kind)))


@memory_app.command()
def merge(
    user: UserOption,
    item_ids: Annotated[
        list[str], typer.Argument(help="Two or more ids (or unique prefixes); the first stays.")
    ],
    text: Annotated[str | None, typer.Option(help="A new text for the merged memory.")] = None,
) -> None:
    """Merge memories that say the same thing into the first one (the others go to history)."""
    memory = _memory()

    def action() -> None:
        ids = [memory.resolve_item(user, item_id).id for item_id in item_ids]
        print(memory.merge(user, ids, text=text).text)

    _run(action)


IdArgument = Annotated[
    str, typer.Argument(help="The memory's id, or a unique prefix of it (as `list` shows).")
]


@memory_app.command()
def edit(user: UserOption, item_id: IdArgument, text: str) -> None:
    """Replace the text of one memory (the audit log keeps the old text)."""
    memory = _memory()
    _run(lambda: print(memory.update(user, memory.resolve_item(user, item_id).id, text=text).text))


@memory_app.command()
def forget(user: UserOption, item_id: IdArgument) -> None:
    """Forget one memory and say which."""
    memory = _memory()

    def action() -> None:
        item = memory.resolve_item(user, item_id)
        memory.forget(user, item.id)
        print(f"forgot {item.id[:12]}: {item.text}")

    _run(action)


def _report(result: dict[str, object], as_json: bool, summary: str) -> None:
    if as_json:
        print(json.dumps(result, default=str, indent=2))
    else:
        console.print(summary)


def _read_json(file: Path) -> object:
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {file}: {exc}") from exc
    except json.JSONDecodeError as exc:
        if not text.strip():
            raise InvalidInputError(f"{file} is empty") from exc
        if exc.pos >= len(text.rstrip()):
            raise InvalidInputError(
                f"{file} ends before its JSON does (truncated?): {exc.msg} at line {exc.lineno}"
            ) from exc
        raise InvalidInputError(f"{file} is not JSON: {exc}") from exc


def _read_export(file: Path) -> dict[str, Any]:
    data = _read_json(file)
    if not isinstance(data, dict):
        raise InvalidInputError(f"{file} is not a memory export (not a JSON object)")
    return data


@memory_app.command("export")
def export_items(
    user: UserOption,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Export a user's memories, replaced ones included, as JSON (format confidante.memory)."""
    memory = _memory()

    def action() -> None:
        data = memory.export(user)
        _say_if_empty(user, len(data["items"]))
        text = json.dumps(data, indent=2, ensure_ascii=False)
        if out is None:
            print(text)
            return
        try:
            out.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"cannot write {out}: {exc}") from exc
        Console(stderr=True).print(f"exported {len(data['items'])} items of {user} to {out}")

    _run(action)


@memory_app.command("import")
def import_items(
    user: UserOption,
    file: Annotated[Path, typer.Argument(help="The export to import ('-': stdin).")],
    keep_ids: Annotated[
        bool, typer.Option("--keep-ids", help="Keep the exported ids (restore a backup).")
    ] = False,
    as_json: JsonOption = False,
    file_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="confidante (memory export), mem0 (get_all JSON), letta (agent file .af), "
            "graphiti or zep (episodes and facts), langgraph (store dump).",
        ),
    ] = "confidante",
    source_user: Annotated[
        str | None,
        typer.Option(
            "--source-user",
            help="The export's user to import (required when it names several users, or "
            "another user than --user: that maps it to --user on purpose).",
        ),
    ] = None,
    mem0_user: Annotated[
        str | None, typer.Option("--mem0-user", help="mem0: import only this mem0 user_id.")
    ] = None,
) -> None:
    """Import an export into a user's memory (validated first; nothing is written if invalid)."""
    memory = _memory()

    def action() -> None:
        data: dict[str, Any]
        if file_format == "confidante":
            data = _read_export(file)
        else:
            from confidante.integrations.importers import convert_export, import_formats

            if file_format not in import_formats():  # before reading the file
                convert_export(file_format, None, user_id=user)
            chosen = mem0_user if file_format == "mem0" and mem0_user else source_user
            data = convert_export(file_format, _read_json(file), user_id=user, source_user=chosen)
        ids = memory.import_(user, data, keep_ids=keep_ids)
        events = len(data.get("events") or [])
        result = {"user": user, "items": len(ids), "events": events, "ids": ids}
        _report(result, as_json, f"imported {len(ids)} items and {events} turns for {user}")

    _run(action)


@memory_app.command()
def ingest(
    user: UserOption,
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to read.")],
    chunk_size: Annotated[int, typer.Option(min=64, help="Chunk size in tokens.")] = 512,
    as_json: JsonOption = False,
) -> None:
    """Remember documents (text, Markdown, JSON mail exports...), split into chunks."""
    memory = _memory()

    def action() -> None:
        from confidante.memory.llama import ingest_documents

        progress = Console(stderr=True).is_terminal
        ids = ingest_documents(memory, user, paths, chunk_size=chunk_size, progress=progress)
        result = {"user": user, "chunks": len(ids), "items": len(set(ids)), "ids": ids}
        _report(result, as_json, f"remembered {len(ids)} chunks for {user}")

    _run(action)
