"""The ``confidante.memory`` export format (version 4): constants, JSON Schema and validation.

The format is documented in :mod:`confidante.memory.portability.transfer` (and in the README);
:data:`JSON_SCHEMA` states it as a JSON Schema (draft 2020-12) for tools in other languages
(:mod:`confidante.memory.portability.json_schema`, with the format's name and versions).
:func:`parse_export` is what the importer trusts: it also checks what a schema cannot (text
limits, unique ids, ``valid_to`` not before ``valid_from``, an item's ``subject_id`` naming a
subject of the document). Importers of other formats (e.g. :mod:`confidante.integrations.mem0`)
convert to this one, so every import is validated the same way.

Version 2 adds the user's raw ``events`` (turns and interactions) and, on image items, the
picture itself (``image_png``: the PNG file in base64). Version 3 adds the user's
``subjects`` (people, pets, places... of :mod:`confidante.memory.subjects.directory`) and, on each
item, the ``subject_id`` it is about (null: the user). Version 4 adds, on each item, when it
expires (``expires_at``, null: never; :mod:`confidante.memory.storage.expiry`); it is a new
version so that an importer that does not know expiries refuses the document instead of keeping
expiring items forever. Versions 1 to 3 are still read (their items never expire).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confidante.errors import InvalidInputError
from confidante.memory.items import MemoryItem, check_text
from confidante.memory.portability.json_schema import (
    EVENTS_SCHEMA,
    FORMAT,
    ITEM_FIELDS,
    JSON_SCHEMA,
    READABLE_VERSIONS,
    SUBJECTS_SCHEMA,
    VERSION,
)

__all__ = [
    "EVENTS_SCHEMA",
    "FORMAT",
    "ITEM_FIELDS",
    "JSON_SCHEMA",
    "READABLE_VERSIONS",
    "SUBJECTS_SCHEMA",
    "VERSION",
    "EventEntry",
    "ExportEntry",
    "SubjectEntry",
    "as_utc",
    "iso",
    "parse_events",
    "parse_export",
    "parse_subjects",
    "parse_time",
]

_LABELS = (("id", 32), ("session_id", 200), ("role", 32), ("extraction", 16))
_OPTIONAL_LABELS = (("speaker", 200), ("source_id", 200))


@dataclass(frozen=True)
class ExportEntry:
    """One validated item of an export (``image_png``: the decoded picture of an image item)."""

    id: str
    item: MemoryItem
    created_at: datetime
    valid_from: datetime
    valid_to: datetime | None
    image_png: bytes | None = None


@dataclass(frozen=True)
class SubjectEntry:
    """One validated subject of an export (``created_at`` None when the export has none)."""

    id: str
    name: str | None
    relation: str | None
    kind: str
    aliases: list[str]
    created_at: datetime | None


@dataclass(frozen=True)
class EventEntry:
    """One validated event of an export."""

    id: str
    session_id: str
    role: str
    text: str
    extraction: str
    error: str | None
    created_at: datetime
    occurred_at: datetime | None
    speaker: str | None
    source_id: str | None
    image_caption: str | None
    position: int | None


def as_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC (a naive time is taken to be UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """Return ``value`` as an ISO 8601 UTC time (None stays None)."""
    return as_utc(value).isoformat() if value is not None else None


def parse_time(raw: Mapping[str, Any], field: str, where: str) -> datetime:
    """Read ``raw[field]`` as an ISO 8601 time (``InvalidInputError`` naming ``where``)."""
    value = raw.get(field)
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}.{field} must be an ISO 8601 time")
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise InvalidInputError(f"{where}.{field} is not an ISO 8601 time: {value!r}") from exc


def _entry(raw: Any, index: int, keep_ids: bool, subjects: set[str]) -> ExportEntry:
    where = f"items[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{where} must be an object")
    missing = [field for field in ITEM_FIELDS if field not in raw]
    if missing:
        raise InvalidInputError(f"{where} lacks {', '.join(missing)}")
    item_id = raw["id"]
    if not isinstance(item_id, str) or not item_id or "\x00" in item_id:
        raise InvalidInputError(f"{where}.id must be a non-empty string")
    if keep_ids and len(item_id) > 32:
        raise InvalidInputError(f"{where}.id is longer than 32 characters (keep_ids)")
    for field, kind, label in (
        ("text", str, "a string"),
        ("kind", str, "a string"),
        ("importance", int | float, "a number"),
        ("provenance", list, "a list"),
        ("attributes", Mapping, "an object"),
    ):
        if not isinstance(raw[field], kind) or isinstance(raw[field], bool):
            raise InvalidInputError(f"{where}.{field} must be {label}")
    if raw["key"] is not None and not isinstance(raw["key"], str):
        raise InvalidInputError(f"{where}.key must be a string or null")
    subject_id = raw.get("subject_id")
    if subject_id is not None and (not isinstance(subject_id, str) or subject_id not in subjects):
        raise InvalidInputError(
            f"{where}.subject_id must be null or the id of a subject in 'subjects'"
            f" (got {subject_id!r})"
        )
    try:
        item = MemoryItem(
            text=raw["text"],
            key=raw["key"],
            kind=raw["kind"],
            importance=float(raw["importance"]),
            provenance=[str(source) for source in raw["provenance"]],
            attributes=dict(raw["attributes"]),
            subject_id=subject_id,
        ).checked()
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: {exc}") from exc
    valid_from = parse_time(raw, "valid_from", where)
    valid_to = None if raw["valid_to"] is None else parse_time(raw, "valid_to", where)
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInputError(f"{where}.valid_to is before its valid_from")
    created_at = parse_time(raw, "created_at", where)
    if raw.get("expires_at") is not None:  # may have passed: the importer skips the item
        item = item.model_copy(update={"expires_at": parse_time(raw, "expires_at", where)})
    return ExportEntry(item_id, item, created_at, valid_from, valid_to, _picture(raw, where))


def _picture(raw: Mapping[str, Any], where: str) -> bytes | None:
    encoded = raw.get("image_png")
    if encoded is None:
        return None
    if raw["kind"] != "image" or not isinstance(encoded, str):
        raise InvalidInputError(f"{where}.image_png must be a base64 string on an image item")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError(f"{where}.image_png is not valid base64") from exc


def parse_export(data: Any, *, keep_ids: bool = False) -> list[ExportEntry]:
    """Validate a ``confidante.memory`` document and return its items, oldest first.

    Raises:
        InvalidInputError: The document is not a valid export (the message names the field).
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError("a memory export must be a JSON object")
    if data.get("format") != FORMAT:
        raise InvalidInputError(f"not a memory export: 'format' must be {FORMAT!r}")
    if data.get("version") not in READABLE_VERSIONS:
        raise InvalidInputError(f"unsupported export version {data.get('version')!r}")
    if not isinstance(data.get("user_id", ""), str):
        raise InvalidInputError("'user_id' must be a string")
    items = data.get("items")
    if not isinstance(items, list):
        raise InvalidInputError("'items' must be a list")
    subjects = {subject.id for subject in parse_subjects(data)}
    entries = [_entry(raw, index, keep_ids, subjects) for index, raw in enumerate(items)]
    ids = [entry.id for entry in entries]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("item ids must be unique")
    return sorted(entries, key=lambda entry: (entry.valid_from, entry.created_at))


def _label(raw: Mapping[str, Any], field: str, limit: int, where: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value or len(value) > limit or "\x00" in value:
        raise InvalidInputError(f"{where}.{field} must be a string of 1 to {limit} characters")
    return value


def _optional_text(raw: Mapping[str, Any], field: str, limit: int | None, where: str) -> Any:
    value = raw.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or (limit is not None and len(value) > limit):
        raise InvalidInputError(f"{where}.{field} must be a string or null")
    return value.replace("\x00", "\ufffd")


def _event(raw: Any, index: int) -> EventEntry:
    where = f"events[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{where} must be an object")
    labels = {
        field: _label({"extraction": "done", **raw}, field, limit, where)
        for field, limit in _LABELS
    }
    optional = {
        field: _optional_text(raw, field, limit, where) for field, limit in _OPTIONAL_LABELS
    }
    text = raw.get("text")
    if not isinstance(text, str):
        raise InvalidInputError(f"{where}.text must be a string")
    try:
        text = check_text(text, "text")
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: {exc}") from exc
    position = raw.get("position")
    if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
        raise InvalidInputError(f"{where}.position must be an integer or null")
    occurred = raw.get("occurred_at")
    return EventEntry(
        **labels,
        text=text,
        error=_optional_text(raw, "error", None, where),
        created_at=parse_time(raw, "created_at", where),
        occurred_at=None if occurred is None else parse_time(raw, "occurred_at", where),
        image_caption=_optional_text(raw, "image_caption", None, where),
        position=position,
        **optional,
    )


def parse_events(data: Mapping[str, Any]) -> list[EventEntry]:
    """Validate the optional ``events`` list of an export (ids unique)."""
    raw = data.get("events", [])
    if not isinstance(raw, list):
        raise InvalidInputError("'events' must be a list")
    entries = [_event(event, index) for index, event in enumerate(raw)]
    ids = [entry.id for entry in entries]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("event ids must be unique")
    return entries


def _subject(raw: Any, index: int) -> SubjectEntry:
    where = f"subjects[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{where} must be an object")
    name, relation, kind = (
        (_optional_text(raw, field, limit, where) or "").strip() or None
        for field, limit in (("name", 200), ("relation", 100), ("kind", 16))
    )
    if not (name or relation):
        raise InvalidInputError(f"{where} needs a non-empty name or relation")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        raise InvalidInputError(f"{where}.aliases must be a list of strings")
    return SubjectEntry(
        id=_label(raw, "id", 32, where),
        name=name,
        relation=relation,
        kind=kind or "person",
        aliases=[alias.strip().replace("\x00", "\ufffd") for alias in aliases if alias.strip()],
        created_at=parse_time(raw, "created_at", where) if raw.get("created_at") else None,
    )


def parse_subjects(data: Mapping[str, Any]) -> list[SubjectEntry]:
    """Validate the optional ``subjects`` list of an export (ids unique)."""
    raw = data.get("subjects", [])
    if not isinstance(raw, list):
        raise InvalidInputError("'subjects' must be a list")
    entries = [_subject(subject, index) for index, subject in enumerate(raw)]
    ids = [entry.id for entry in entries]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("subject ids must be unique")
    return entries
