"""The catalog: the things that can be recommended, stored next to the memory (sqlmodel).

Catalog items are not personal data: they belong to no user and are shared by everyone. The
table is the tool's own, in the memory's database (the rules for that are in
:mod:`confidante.memory.tool_tables`); :class:`Catalog` creates it on first use, so no memory
migration is needed.

Loaders read a CSV or JSON catalog (:func:`read_catalog_file`); a MovieLens ``movies.csv``
(``movieId,title,genres``) is recognised and its ``|``-separated genres become an attribute.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, LargeBinary
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


def read_catalog_file(path: str | Path) -> list[CatalogItem]:
    """Read catalog items from a CSV or JSON file.

    CSV: columns ``id`` (or ``movieId``/``item_id``), ``title``, optional ``text`` (or
    ``description``) and ``image``; every other column is an attribute (``genres`` split on
    ``|``). JSON: a list of objects with the fields of :class:`CatalogItem`.

    Raises:
        InvalidInputError: Missing file, unknown format or an invalid row.
    """
    source = Path(path)
    if not source.is_file():
        raise InvalidInputError(f"no catalog file at {source}")
    try:
        if source.suffix.lower() == ".json":
            rows = json.loads(source.read_text(encoding="utf-8"))
            if not isinstance(rows, list):
                raise InvalidInputError(f"{source}: expected a JSON list of items")
            return [CatalogItem.model_validate(row) for row in rows]
        if source.suffix.lower() != ".csv":
            raise InvalidInputError(f"{source}: a catalog is a .csv or .json file")
        with source.open(newline="", encoding="utf-8") as handle:
            return [_csv_item(row) for row in csv.DictReader(handle)]
    except (ValueError, KeyError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"{source}: {exc}") from exc


def _csv_item(row: dict[str, str]) -> CatalogItem:
    fields = dict(row)
    item_id = next(
        (fields.pop(name) for name in ("id", "movieId", "item_id") if name in fields), None
    )
    if not item_id:
        raise InvalidInputError("a catalog row has no id column (id, movieId or item_id)")
    title = fields.pop("title", "") or item_id
    text = fields.pop("text", "") or fields.pop("description", "")
    image = fields.pop("image", None) or None
    attributes: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None or value == "" or value == "(no genres listed)":
            continue
        attributes[name] = value.split("|") if name == "genres" else value
    return CatalogItem(id=item_id, title=title, text=text, attributes=attributes, image=image)


class Catalog:
    """The catalog table of a memory database, with item embeddings for content similarity."""

    def __init__(self, database: Database, embedder: Embedder | None = None) -> None:
        self.database = database
        self.embedder = embedder
        create_tool_tables(database, [CatalogRecord])

    async def aadd(self, items: Iterable[CatalogItem], *, batch_size: int = 256) -> int:
        """Add or replace items (by id); embeds their documents when an embedder is set.

        Returns:
            How many items were written.
        """
        checked = list(items)
        written = 0
        model = self.embedder.name if self.embedder is not None else None
        for start in range(0, len(checked), batch_size):
            batch = checked[start : start + batch_size]
            vectors: Any = None
            if self.embedder is not None:
                vectors = await asyncio.to_thread(
                    self.embedder.embed_documents, [item.document() for item in batch]
                )

            def write(
                session: Session, batch: list[CatalogItem] = batch, vectors: Any = vectors
            ) -> int:
                for position, item in enumerate(batch):
                    record = CatalogRecord(
                        id=item.id,
                        title=item.title,
                        text=item.text,
                        attributes=item.attributes,
                        image=item.image,
                        vector_model=model,
                        vector=(
                            np.asarray(vectors[position], dtype=np.float32).tobytes()
                            if vectors is not None
                            else None
                        ),
                    )
                    existing = session.get(CatalogRecord, item.id)
                    if existing is None:
                        insert_if_absent(session, record)
                    else:
                        for name in ("title", "text", "attributes", "image", "vector_model"):
                            setattr(existing, name, getattr(record, name))
                        existing.vector = record.vector
                        session.add(existing)
                return len(batch)

            written += await self.database.run(write)
        return written

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
