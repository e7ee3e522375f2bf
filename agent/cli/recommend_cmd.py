"""``confidante recommend``: recommendations for a user, feedback, catalog and log loading.

- ``confidante recommend --user U [--k 10] [--query TEXT] [--rerank] [--json]``
- ``confidante recommend feedback --user U ITEM_ID --accept|--reject``
- ``confidante recommend interact --user U ITEM_ID [--action viewed] [--rating 4.5]``
- ``confidante recommend load-catalog FILE [--replace]`` (CSV or JSON; MovieLens ``movies.csv``
  works; stored items are kept unless ``--replace``)
- ``confidante recommend load-log PATH [--format movielens|sequences] [--prefix P]``
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from confidante.errors import ConfidanteError, InvalidInputError

if TYPE_CHECKING:
    from confidante.tools.recommend.service import Recommender

recommend_app = typer.Typer(
    help="Recommend catalog items to a user; record feedback; load catalogs and logs.",
    invoke_without_command=True,
)
console = Console()

UserOption = Annotated[str, typer.Option("--user", "-u", help="Whose recommendations.")]
ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Chat model for --rerank: local, scripted or openai:NAME."),
]


def _recommender(model: str | None = None, rerank: bool = False) -> Recommender:
    from confidante.cli.app import load_settings, quiet_libraries

    quiet_libraries()
    from confidante.memory.store import Memory
    from confidante.tools.recommend.service import Recommender

    settings = load_settings(model)
    chat_model = None
    if rerank:
        from confidante.models import build_chat_model

        chat_model = build_chat_model(settings)
    return Recommender(Memory.open(settings=settings), model=chat_model, rerank=rerank)


def _run(action: Callable[[], None]) -> None:
    try:
        action()
    except ConfidanteError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2 if isinstance(exc, InvalidInputError) else 1) from exc


@recommend_app.callback()
def recommend(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", "-u", help="Whose recommendations.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", help="How many items.")] = 10,
    query: Annotated[str | None, typer.Option(help="What the user wants now.")] = None,
    rerank: Annotated[
        bool, typer.Option(help="Let the chat model reorder and explain the list.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    model: ModelOption = None,
) -> None:
    """Recommend items to a user (or run a subcommand)."""
    if ctx.invoked_subcommand is not None:
        return
    if not user:
        Console(stderr=True).print("[red]error:[/red] --user is required")
        raise typer.Exit(2)

    def show() -> None:
        found = _recommender(model, rerank).recommend(user, k, query=query)
        if rerank and found and not any(rec.reranked for rec in found):
            Console(stderr=True).print(
                "note: the model's rerank was unusable; showing the ranking core's order"
            )
        if as_json:
            print(json.dumps([r.model_dump(mode="json") for r in found], indent=2))
            return
        table = Table("#", "id", "title", "why", "score")
        for rank, rec in enumerate(found, 1):
            table.add_row(
                str(rank),
                escape(rec.item.id),
                escape(rec.item.title),
                escape(rec.reason),
                f"{rec.score:.3f}",
            )
        console.print(table)

    _run(show)


@recommend_app.command()
def feedback(
    user: UserOption,
    item_id: str,
    accept: Annotated[
        bool, typer.Option("--accept/--reject", help="Whether the user took the item.")
    ] = True,
) -> None:
    """Remember that the user accepted or rejected a recommended item."""
    _run(lambda: _recommender().feedback(user, item_id, accept))
    print(f"{'accepted' if accept else 'rejected'} {item_id}")


@recommend_app.command()
def interact(
    user: UserOption,
    item_id: str,
    action: Annotated[
        str, typer.Option(help="viewed, rated, accepted, rejected or owned.")
    ] = "viewed",
    rating: Annotated[float | None, typer.Option(help="A rating (with --action rated).")] = None,
) -> None:
    """Record one interaction of the user with a catalog item."""
    _run(lambda: _recommender().interact(user, item_id, action, rating=rating))
    print(f"{action} {item_id}")


@recommend_app.command("load-catalog")
def load_catalog(
    path: Path,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Overwrite stored items whose fields differ (default: keep them)."
        ),
    ] = False,
) -> None:
    """Add catalog items from a CSV or JSON file (MovieLens movies.csv works).

    Items already in the catalog are kept as they are unless --replace is given; unchanged
    items are skipped without being embedded again, so a reload is quick.
    """
    from confidante._sync import run_sync
    from confidante.cli.progress import progress
    from confidante.tools.recommend.catalog import read_catalog_file

    def load() -> None:
        items = read_catalog_file(path)
        recommender = _recommender()
        with progress("loading the catalog", len(items)) as advance:
            done = run_sync(recommender.catalog.aadd(items, replace=replace, progress=advance))
        counts = [f"{done.added} added", f"{done.unchanged} unchanged"]
        if done.replaced:
            counts.append(f"{done.replaced} replaced")
        if done.kept:
            counts.append(f"{done.kept} skipped (already in the catalog with other fields)")
        print(f"{done.total} catalog items: {', '.join(counts)}")
        if done.kept:
            Console(stderr=True).print(
                f"{done.kept} stored items differ from {escape(str(path))} and were kept;"
                " --replace overwrites them"
            )

    _run(load)


@recommend_app.command("load-log")
def load_log(
    path: Path,
    data_format: Annotated[
        str, typer.Option("--format", help="movielens (ratings.csv) or sequences.")
    ] = "movielens",
    prefix: Annotated[str, typer.Option(help="Prepended to the log's user ids.")] = "",
) -> None:
    """Record an interaction log as users' interactions (items must be in the catalog)."""
    from confidante.cli.progress import progress
    from confidante.tools.recommend.data import load_movielens, load_sequences

    def load() -> None:
        if data_format not in ("movielens", "sequences"):
            raise InvalidInputError("--format is movielens or sequences")
        data = load_movielens(path) if data_format == "movielens" else load_sequences(path)
        recommender = _recommender()
        with progress("loading the log", data.n_interactions) as advance:
            count = recommender.import_log(data, prefix=prefix, progress=advance)
        print(f"{count} interactions from {len(data.users)} users")

    _run(load)
