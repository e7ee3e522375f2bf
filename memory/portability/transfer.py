"""Export and import a user's memory as JSON, to back it up or move it to another database.

The format (``confidante.memory``, version 4) is one JSON object::

    {
      "format": "confidante.memory",
      "version": 4,
      "user_id": "alice",
      "exported_at": "2026-05-01T09:30:00+00:00",
      "subjects": [                        # who or what items are about (portability/subjects.py)
        {
          "id": "9c1d...",                 # the subject's id (at most 32 characters)
          "name": "Ana",                   # or null while only the relation is known
          "relation": "sister",            # who they are to the user, or null
          "kind": "person",                # person, pet...
          "aliases": ["Anna"],             # earlier names
          "created_at": "2026-04-30T18:02:11.503211+00:00"
        }
      ],
      "items": [
        {
          "id": "4f0c2e...",               # the item's id (32 hex characters)
          "text": "Alice lives in Lisbon.",
          "key": "home_city",              # the item's slot, or null
          "kind": "fact",                  # fact, preference, document...
          "importance": 0.5,               # 0..1
          "provenance": ["event:1a2b..."], # ids of the turns or documents it came from
          "attributes": {},                # JSON attributes
          "created_at": "2026-04-30T18:02:11.503211+00:00",
          "valid_from": "2026-04-30T18:02:11.503211+00:00",
          "valid_to": null,                # set when a newer value superseded the item
          "subject_id": "9c1d...",         # the subject it is about; null: the user
          "expires_at": null,              # when it expires; null: never
          "image_png": "iVBORw0..."        # image items only: the picture (PNG, base64)
        }
      ],
      "events": [...]                      # raw turns and interactions (portability/events.py)
    }

Times are ISO 8601 (a time without an offset is read as UTC). ``subjects`` lists every subject
of the user (:mod:`confidante.memory.portability.subjects`), ``items`` every item, oldest first,
superseded ones included, and ``events`` every raw turn and interaction
(:mod:`confidante.memory.portability.events`), so nothing is lost. Vectors, summaries and the
audit log are not exported (nor the ``superseded_by`` link of a superseded item): vectors are
recomputed on import with the target memory's embedders and summaries by the next summary job.
Expired items are not exported. Version 1 (no events, no pictures), version 2 (no subjects) and
version 3 (no expiries) documents are still imported.

Import (:func:`import_memory`) checks the whole document first and writes nothing if anything is
wrong (``InvalidInputError`` naming the faulty field; an item's ``subject_id`` must be null
or the id of a subject of the document). Then, in one transaction:

- each subject is matched to one of the target user's subjects (same name or alias, or the same
  relation for one known by its relation only) or added to them (see ``portability.subjects``),
  and the items follow it;
- current items (``valid_to`` null) go through the memory's write rules, oldest first, exactly
  like ``aremember_many``: an item with a key supersedes the target user's current item of that
  key, and an item whose text the user already has only adds its provenance to it;
- superseded items are added to the user's history as they are (they supersede nothing);
- new items keep their ``created_at``, ``valid_from``, (history) ``valid_to`` and
  ``expires_at``; an item whose ``expires_at`` has already passed is skipped (it would never be
  read), and one that says the same as an item of the user gives it the later expiry;
- with ``keep_ids=True`` new items keep their exported ids (an id already in the database is
  refused), e.g. to restore a backup into an empty database;
- events keep their ids unless another user's event has one (then provenance follows the new
  id); an event the user already has is skipped;
- image items with their picture are stored like ``aremember_image`` stores them (one file per
  picture and user; the file goes if the transaction fails).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import update
from sqlmodel import Session, col, select

from confidante.errors import InvalidInputError
from confidante.memory.embeddings.images import IMAGE_KIND
from confidante.memory.items import check_user_id, readable
from confidante.memory.portability.events import add_events, event_documents
from confidante.memory.portability.format import (
    FORMAT,
    VERSION,
    EventEntry,
    ExportEntry,
    iso,
    parse_events,
    parse_export,
    parse_subjects,
)
from confidante.memory.portability.images import ImageImport, prepare_images
from confidante.memory.portability.item_rows import add_current, add_history
from confidante.memory.portability.subjects import add_subjects, subject_documents
from confidante.memory.storage.expiry import has_expired, live
from confidante.memory.storage.records import Concept, utcnow

if TYPE_CHECKING:
    from confidante.memory.store import Memory

__all__ = ["FORMAT", "VERSION", "export_memory", "import_memory", "parse_export"]

_EMBED_BATCH = 256


async def export_memory(memory: Memory, user_id: str) -> dict[str, Any]:
    """Return a user's subjects, items (history too) and events as a ``confidante.memory`` doc."""
    check_user_id(user_id)

    def read(
        session: Session,
    ) -> tuple[list[dict[str, Any]], list[Concept], list[dict[str, Any]]]:
        query = (
            select(Concept)
            .where(Concept.user_id == user_id, live())
            .order_by(col(Concept.created_at), col(Concept.id))
        )
        concepts = readable(session.exec(query).all())
        return subject_documents(session, user_id), concepts, event_documents(session, user_id)

    subjects, concepts, events = await memory.database.run(read, write=False)
    items = [await asyncio.to_thread(_item_document, concept) for concept in concepts]
    return {
        "format": FORMAT,
        "version": VERSION,
        "user_id": user_id,
        "exported_at": iso(utcnow()),
        "subjects": subjects,
        "items": items,
        "events": events,
    }


def _item_document(concept: Concept) -> dict[str, Any]:
    document = {
        "id": concept.id,
        "text": concept.text,
        "key": concept.key,
        "kind": concept.kind,
        "importance": concept.importance,
        "provenance": list(concept.provenance or []),
        "attributes": dict(concept.attributes or {}),
        "created_at": iso(concept.created_at),
        "valid_from": iso(concept.valid_from),
        "valid_to": iso(concept.valid_to),
        "subject_id": concept.subject_id,
        "expires_at": iso(concept.expires_at),
    }
    if concept.image_path and Path(concept.image_path).is_file():
        picture = Path(concept.image_path).read_bytes()
        document["image_png"] = base64.b64encode(picture).decode("ascii")
    return document


async def import_memory(
    memory: Memory, user_id: str, data: Mapping[str, Any], *, keep_ids: bool = False
) -> list[str]:
    """Add the subjects, items and events of a ``confidante.memory`` export to a user's memory.

    The rules are in the module's docstring.

    Importing the same document twice (without ``keep_ids``) adds nothing the second time:
    subjects match themselves, current items merge into themselves, and a superseded item the
    user already has (same text, key, subject and ``valid_from``) is skipped.

    Args:
        memory: The target memory (any database, any embedder).
        user_id: The target user; the export's ``user_id`` may differ.
        data: The parsed JSON document.
        keep_ids: Give new items their exported ids instead of fresh ones.

    Returns:
        The id each item has now, in the order of ``data["items"]`` (an item merged into an
        existing one returns that one's id); an item that had already expired is skipped and
        has none.

    Raises:
        InvalidInputError: The document is invalid, or (``keep_ids``) an id is already used.
    """
    check_user_id(user_id)
    now = utcnow()
    parsed = [
        replace(entry, item=memory._screened_item(entry.item))
        for entry in parse_export(data, keep_ids=keep_ids)
        if not has_expired(entry.item.expires_at, now)
    ]
    subjects = parse_subjects(data)
    events = [_screened_event(memory, event) for event in parse_events(data)]
    pictures = await prepare_images(memory, user_id, [e for e in parsed if e.image_png])
    entries = [entry for entry in parsed if entry.image_png is None]
    embedder = memory.embedder
    texts = [entry.item.text for entry in entries]
    chunks = [
        await asyncio.to_thread(embedder.embed_documents, texts[start : start + _EMBED_BATCH])
        for start in range(0, len(texts), _EMBED_BATCH)
    ]
    vectors = np.vstack(chunks) if chunks else np.zeros((0, embedder.dim), np.float32)
    pairs = list(zip(entries, vectors, strict=True))

    def write(session: Session) -> dict[str, str]:
        if keep_ids:
            wanted = [entry.id for entry in parsed]
            taken = session.exec(select(Concept.id).where(col(Concept.id).in_(wanted))).all()
            if taken:
                raise InvalidInputError(f"ids already in the database: {', '.join(taken[:5])}")
        memory._ensure_user(session, user_id)  # creates and locks the user's row
        subject_ids = add_subjects(session, user_id, subjects, keep_ids)
        renamed = add_events(session, user_id, events)
        if renamed:
            _follow_events(entries, renamed)
            _follow_events([entry for entry, *_ in pictures.entries], renamed)
        about = [(_about(entry, subject_ids), vector) for entry, vector in pairs]
        current = [pair for pair in about if not pair[0].valid_to]
        result = add_current(session, user_id, current, embedder.name, keep_ids)
        history = [pair for pair in about if pair[0].valid_to]
        result |= add_history(session, user_id, history, embedder.name, keep_ids)
        return result | _add_pictures(session, user_id, pictures, subject_ids, keep_ids)

    try:
        mapping = await memory.database.run(write)
    except BaseException:
        pictures.discard()
        raise
    return [mapping[str(raw["id"])] for raw in data["items"] if str(raw["id"]) in mapping]


def _screened_event(memory: Memory, event: EventEntry) -> EventEntry:
    """The event with its texts under the memory's secret policy."""
    caption, error = event.image_caption, event.error
    return replace(
        event,
        text=memory._screened(event.text, "event text"),
        image_caption=memory._screened(caption, "image_caption") if caption else caption,
        error=memory._screened(error, "event error") if error else error,
    )


def _about(entry: ExportEntry, subject_ids: Mapping[str, str]) -> ExportEntry:
    """The entry with its item about the target user's subject (the exported one's match)."""
    exported = entry.item.subject_id
    if exported is None:
        return entry
    item = entry.item.model_copy(update={"subject_id": subject_ids[exported]})
    return replace(entry, item=item)


def _add_pictures(
    session: Session,
    user_id: str,
    pictures: ImageImport,
    subject_ids: Mapping[str, str],
    keep_ids: bool,
) -> dict[str, str]:
    """Write the image items; the new ones get the target subjects of their exported ones."""
    about = {e.id: e.item.subject_id for e, *_ in pictures.entries if e.item.subject_id}
    before: set[str] = set()
    if about:
        query = select(Concept.id).where(Concept.user_id == user_id, Concept.kind == IMAGE_KIND)
        before = set(session.exec(query).all())
    result = pictures.add(session, keep_ids)
    for old_id, exported in about.items():
        if result[old_id] not in before:  # a picture the user did not have
            session.execute(
                update(Concept)
                .where(col(Concept.id) == result[old_id])
                .values(subject_id=subject_ids[exported])
            )
    return result


def _follow_events(entries: Sequence[ExportEntry], renamed: Mapping[str, str]) -> None:
    """Point the provenance of imported items at the new ids of renamed events."""
    for entry in entries:
        sources = entry.item.provenance
        sources[:] = [renamed.get(source, source) for source in sources]
