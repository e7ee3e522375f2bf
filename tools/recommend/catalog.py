"""The catalog: the things that can be recommended, stored next to the memory (sqlmodel).

Catalog items are not personal data: they belong to no user and are shared by everyone. The
table is the tool's own, in the memory's database (the rules for that are in
:mod:`confidante.memory.tool_tables`); :class:`Catalog` creates it on first use, so no memory
migration is needed.

Loaders read a CSV or JSON catalog (:func:`read_catalog_file`); a MovieLens ``movies.csv``
(``movieId,title,genres``) is recognised and its ``|``-separated genres become an attribute.
A file without an id and a title column, or one that looks like an interaction log (a user,
rating or timestamp column), is refused before anything is written.

:meth:`Catalog.aadd` never changes a stored item unless asked (``replace=True``) and embeds
only what is new or changed, so reloading an unchanged catalog costs a read, not an embedding
of every item; :class:`CatalogLoad` says what it did.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, LargeBinary, update
from sqlmodel import Field, Session, SQLModel, col, select

from confidante.errors import InvalidInputError
from confidante.memory.embeddings.text import Embedder
from confidante.memory.tool_tables import (
    Database,
    create_tool_tables,
    insert_if_absent,
    utcnow,
)


class CatalogRecord(SQLModel, table=True):
    """One catalog item (shared by all users)."""

    __tablename__ = "catalog_items"

    id: str = Field(primary_key=True, max_length=200)
    title: str
    text: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    image: str | None = None
    vector_model: str | None = Field(default=None, max_length=100)
    vector: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class CatalogItem(BaseModel):
    """A catalog item as given by callers and returned to them."""

    id: str = PydanticField(min_length=1, max_length=200)
    title: str = PydanticField(min_length=1)
    text: str = ""
    attributes: dict[str, Any] = PydanticField(default_factory=dict)
    image: str | None = None

    def document(self) -> str:
        """The text that is embedded for content similarity."""
        values = [
            ", ".join(map(str, v)) if isinstance(v, list) else str(v)
            for v in self.attributes.values()
        ]
        return ". ".join(part for part in (self.title, self.text, *values) if part)

    def terms(self) -> set[str]:
        """Lower-case words of the title and attribute values (what constraints match)."""
        parts = [self.title]
        for value in self.attributes.values():
            parts.extend(map(str, value) if isinstance(value, list) else [str(value)])
        return {word for part in parts for word in _words(part)}


def _words(text: str) -> list[str]:
    return "".join(c.lower() if c.isalnum() else " " for c in text).split()


def _item_of(record: CatalogRecord) -> CatalogItem:
    return CatalogItem(
        id=record.id,
        title=record.title,
        text=record.text,
        attributes=dict(record.attributes or {}),
        image=record.image,
    )


#: Columns that may hold a catalog item's id (the first one present is used).
ID_COLUMNS = ("id", "movieId", "item_id")
#: Columns that name a user: a catalog is shared by everyone, so a file with one is a log.
USER_COLUMNS = ("userId", "user_id", "user")
#: Columns of an interaction log (MovieLens ``ratings.csv`` and ``tags.csv``, most others).
LOG_COLUMNS = (*USER_COLUMNS, "rating", "timestamp")


def read_catalog_file(path: str | Path) -> list[CatalogItem]:
    """Read catalog items from a CSV or JSON file, refusing what is not a catalog.

    CSV: columns ``id`` (or ``movieId``/``item_id``), ``title``, optional ``text`` (or
    ``description``) and ``image``; every other column is an attribute (``genres`` split on
    ``|``). JSON: a list of objects with the fields of :class:`CatalogItem`.

    The columns are checked before any row is read, because a file of the wrong kind (a
    MovieLens ``ratings.csv`` has a ``movieId`` too) would otherwise load as items titled by
    their ids and overwrite a real catalog's titles.

    Raises:
        InvalidInputError: Missing file, unknown format, a file that looks like an interaction
            log, a missing id or title column (the message lists the columns found), an
            empty title, an id given twice, or an invalid row.
    """
    source = Path(path)
    if not source.is_file():
        raise InvalidInputError(f"no catalog file at {source}")
    try:
        if source.suffix.lower() == ".json":
            rows = json.loads(source.read_text(encoding="utf-8"))
            if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
                raise InvalidInputError(f"{source}: expected a JSON list of items (objects)")
            _check_columns(source, list(dict.fromkeys(key for row in rows for key in row)))
            items = [CatalogItem.model_validate(row) for row in rows]
        elif source.suffix.lower() == ".csv":
            with source.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                _check_columns(source, list(reader.fieldnames or ()))
                items = [_csv_item(source, reader.line_num, row) for row in reader]
        else:
            raise InvalidInputError(f"{source}: a catalog is a .csv or .json file")
    except (ValueError, KeyError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"{source}: {exc}") from exc
    _check_unique(source, items)
    return items


def _check_columns(source: Path, columns: list[str]) -> None:
    """Refuse a file without an id and a title column, or one that looks like a log."""
    found = ", ".join(columns) or "none"
    has_title = "title" in columns
    if any(name in columns for name in USER_COLUMNS) or (
        not has_title and any(name in columns for name in LOG_COLUMNS)
    ):
        raise InvalidInputError(
            f"{source} looks like an interaction log, not a catalog (columns: {found}); "
            f"load it with `confidante recommend load-log {source}`, and the catalog "
            "(e.g. MovieLens movies.csv) with load-catalog"
        )
    missing = [] if any(name in columns for name in ID_COLUMNS) else ["id (or movieId, item_id)"]
    if not has_title:
        missing.append("title")
    if missing:
        raise InvalidInputError(
            f"{source} is not a catalog: missing the column(s) {'; '.join(missing)}; found: {found}"
        )


def _check_unique(source: Path, items: list[CatalogItem]) -> None:
    seen: set[str] = set()
    repeated: list[str] = []
    for item in items:
        if item.id in seen:
            repeated.append(item.id)
        seen.add(item.id)
    if repeated:
        raise InvalidInputError(
            f"{source}: {len(repeated)} row(s) repeat an id already given (first: "
            f"{repeated[0]!r}); a catalog names each item once"
        )


def _csv_item(source: Path, line: int, row: dict[str, str]) -> CatalogItem:
    fields = dict(row)
    item_id = next((fields.pop(name) for name in ID_COLUMNS if name in fields), None)
    if not item_id:
        raise InvalidInputError(f"{source}, line {line}: no id")
    title = fields.pop("title", "")
    if not title or not title.strip():
        raise InvalidInputError(f"{source}, line {line}: item {item_id!r} has no title")
    text = fields.pop("text", "") or fields.pop("description", "")
    image = fields.pop("image", None) or None
    attributes: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None or value == "" or value == "(no genres listed)":
            continue
        attributes[name] = value.split("|") if name == "genres" else value
    return CatalogItem(id=item_id, title=title, text=text, attributes=attributes, image=image)


@dataclass
class CatalogLoad:
    """What :meth:`Catalog.aadd` did with the items it was given.

    Attributes:
        added: Items that were not in the catalog.
        replaced: Stored items whose fields differed, overwritten (``replace=True``).
        unchanged: Stored items with the same fields (not written again, not re-embedded
            unless their vector came from another model).
        kept: Stored items whose fields differed, left as they were (``replace=False``).
    """

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    kept: int = 0

    @property
    def total(self) -> int:
        """How many items were given."""
        return self.added + self.replaced + self.unchanged + self.kept


@dataclass(frozen=True)
class _Stored:
    item: CatalogItem
    vector_model: str | None
    has_vector: bool


def _stored_of(ids: list[str], session: Session) -> dict[str, _Stored]:
    """The stored items with these ids, with what their vectors were made by."""
    rows = session.exec(select(CatalogRecord).where(col(CatalogRecord.id).in_(ids))).all()
    return {r.id: _Stored(_item_of(r), r.vector_model, r.vector is not None) for r in rows}


def _write(
    plan: list[tuple[CatalogItem, bool]], vectors: Any, model: str | None, session: Session
) -> None:
    """Insert new items and overwrite existing ones (fields and vector) in one transaction."""
    for position, (item, exists) in enumerate(plan):
        values: dict[str, Any] = {
            "title": item.title,
            "text": item.text,
            "attributes": item.attributes,
            "image": item.image,
            "vector_model": model if vectors is not None else None,
            "vector": (
                np.asarray(vectors[position], dtype=np.float32).tobytes()
                if vectors is not None
                else None
            ),
        }
        if exists:
            session.execute(
                update(CatalogRecord).where(col(CatalogRecord.id) == item.id).values(**values)
            )
        else:
            insert_if_absent(session, CatalogRecord(id=item.id, created_at=utcnow(), **values))


class Catalog:
    """The catalog table of a memory database, with item embeddings for content similarity."""

    def __init__(self, database: Database, embedder: Embedder | None = None) -> None:
        self.database = database
        self.embedder = embedder
        create_tool_tables(database, [CatalogRecord])

    async def aadd(
        self,
        items: Iterable[CatalogItem],
        *,
        replace: bool = False,
        batch_size: int = 512,
        progress: Callable[[int], None] | None = None,
    ) -> CatalogLoad:
        """Add items; keep existing ones unless ``replace``; embed only what changed.

        Each batch costs one read of the stored rows with the batch's ids, one embedder call
        for the items that need a vector (new, replaced, or embedded by another model) and
        one write transaction. An item stored with the same fields and a current vector is
        left alone, so reloading an unchanged file embeds nothing.

        Args:
            items: The items (ids are unique within one call).
            replace: Overwrite stored items whose fields differ; without it they are kept as
                they are (a wrong file must not silently rename a catalog).
            batch_size: Items per embedder call and per transaction (larger batches embed
                faster per item; smaller ones report progress more often).
            progress: Called with the number of items handled after each batch.

        Returns:
            What happened to the items (added, replaced, unchanged, kept).
        """
        checked = list(items)
        report = CatalogLoad()
        for start in range(0, len(checked), batch_size):
            batch = checked[start : start + batch_size]
            stored = await self.database.run(
                partial(_stored_of, [i.id for i in batch]), write=False
            )
            plan = self._plan(batch, stored, replace, report)
            vectors: Any = None
            if self.embedder is not None and plan:
                vectors = await asyncio.to_thread(
                    self.embedder.embed_documents, [item.document() for item, _ in plan]
                )
            model = self.embedder.name if self.embedder is not None else None
            if plan:  # an unchanged batch costs no write transaction
                await self.database.run(partial(_write, plan, vectors, model))
            if progress is not None:
                progress(len(batch))
        return report

    def _plan(
        self,
        batch: list[CatalogItem],
        stored: dict[str, _Stored],
        replace: bool,
        report: CatalogLoad,
    ) -> list[tuple[CatalogItem, bool]]:
        """Pick the items to write, as ``(item, exists)``, and count the others in ``report``."""
        model = self.embedder.name if self.embedder is not None else None
        plan: list[tuple[CatalogItem, bool]] = []
        for item in batch:
            found = stored.get(item.id)
            if found is None:
                report.added += 1
                plan.append((item, False))
            elif found.item != item:
                if replace:
                    report.replaced += 1
                    plan.append((item, True))
                else:
                    report.kept += 1
            else:
                report.unchanged += 1
                if model is not None and (found.vector_model != model or not found.has_vector):
                    plan.append((item, True))  # same fields, vector of another model
        return plan

    async def aitems(self, ids: Sequence[str] | None = None) -> list[CatalogItem]:
        """Return catalog items (all, or those with the given ids), ordered by id."""

        def read(session: Session) -> list[CatalogItem]:
            query: Any = select(CatalogRecord).order_by(col(CatalogRecord.id))
            if ids is not None:
                query = query.where(col(CatalogRecord.id).in_(list(ids)))
            return [_item_of(record) for record in session.exec(query).all()]

        return await self.database.run(read, write=False)

    async def avectors(self, ids: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        """Return the stored embeddings of ``ids`` in order (embedding missing ones), or None.

        None when no embedder is set. Items embedded by another model are embedded again.
        """
        if self.embedder is None:
            return None
        model = self.embedder.name

        def read(session: Session) -> dict[str, tuple[str | None, bytes | None, str]]:
            rows = session.exec(
                select(CatalogRecord).where(col(CatalogRecord.id).in_(list(ids)))
            ).all()
            return {r.id: (r.vector_model, r.vector, _item_of(r).document()) for r in rows}

        found = await self.database.run(read, write=False)
        stale = [i for i in ids if i in found and (found[i][0] != model or found[i][1] is None)]
        if stale:
            await self.aadd(await self.aitems(stale))
            found = await self.database.run(read, write=False)
        dim = self.embedder.dim
        out = np.zeros((len(ids), dim), dtype=np.float32)
        for position, item_id in enumerate(ids):
            entry = found.get(item_id)
            if entry is not None and entry[1] is not None:
                out[position] = np.frombuffer(entry[1], dtype=np.float32)[:dim]
        return out

    async def acount(self) -> int:
        """How many items the catalog holds."""

        def read(session: Session) -> int:
            return len(session.exec(select(CatalogRecord.id)).all())

        return await self.database.run(read, write=False)
