"""``confidante keys``: make, list and revoke the API keys of the HTTP server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from confidante.errors import ConfidanteError

if TYPE_CHECKING:
    from confidante.server.keys import KeyStore

keys_app = typer.Typer(help="Manage the HTTP server's API keys.", no_args_is_help=True)
console = Console()


def _store() -> KeyStore:
    from confidante.cli.app import load_settings
    from confidante.memory.storage.database import Database
    from confidante.server.keys import KeyStore

    settings = load_settings()
    settings.ensure_dirs()
    store = KeyStore(Database.open(settings.resolved_database_url))
    store.prepare()
    return store


def _run(action: Callable[[], None]) -> None:
    try:
        action()
    except ConfidanteError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc


@keys_app.command()
def create(
    user: Annotated[str, typer.Option("--user", "-u", help="The user the key acts for.")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
) -> None:
    """Make a key for a user and print it (it is shown only this once)."""

    def action() -> None:
        info, secret = _store().create(user, name)
        Console(stderr=True, soft_wrap=True).print(
            f"key {info.id} for user {escape(user)} (store it now; it is not shown again):"
        )
        print(secret)

    _run(action)


@keys_app.command("list")
def list_keys(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List keys (never their secrets)."""

    def action() -> None:
        infos = _store().list_keys(user)
        if as_json:
            print(json.dumps([info.model_dump(mode="json") for info in infos], indent=2))
            return
        table = Table("id", "user", "name", "prefix", "created", "revoked")
        for info in infos:
            table.add_row(
                info.id[:12],
                escape(info.user),
                escape(info.name),
                info.prefix,
                f"{info.created_at:%Y-%m-%d %H:%M}",
                f"{info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "",
            )
        console.print(table)

    _run(action)


@keys_app.command()
def revoke(
    key_id: Annotated[
        str, typer.Argument(help="The key's id, or a unique prefix of it (see `keys list`).")
    ],
) -> None:
    """Revoke a key; it stops working at once."""

    def action() -> None:
        from confidante.memory.id_prefix import match_id_prefix

        store = _store()
        keys = {info.id: f"{info.user} {info.name}".strip() for info in store.list_keys()}
        info = store.revoke(match_id_prefix(key_id, keys, what="API key"))
        print(f"revoked {info.id} ({info.user})")

    _run(action)
