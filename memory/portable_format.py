"""The ``confidante.memory`` export format (version 1): constants, JSON Schema and validation.

The format is documented in :mod:`confidante.memory.portable` (and in the README);
:data:`JSON_SCHEMA` states it as a JSON Schema (draft 2020-12) for tools in other languages.
:func:`parse_export` is what the importer trusts: it also checks what a schema cannot (text
limits, unique ids, ``valid_to`` not before ``valid_from``). Importers of other formats (e.g.
:mod:`confidante.integrations.mem0`) convert to this one, so every import is validated the same
way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confidante.errors import InvalidInputError
from confidante.memory.items import MemoryItem

__all__ = [
    "FORMAT",
    "ITEM_FIELDS",
    "JSON_SCHEMA",
    "VERSION",
    "ExportEntry",
    "as_utc",
    "iso",
    "parse_export",
]

FORMAT = "confidante.memory"
VERSION = 1
ITEM_FIELDS = (
    "id",
    "text",
    "key",
    "kind",
    "importance",
    "provenance",
    "attributes",
    "created_at",
    "valid_from",
    "valid_to",
)

_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}

#: The format as a JSON Schema (draft 2020-12).
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "confidante.memory export, version 1",
    "type": "object",
    "required": ["format", "version", "items"],
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "user_id": {"type": "string", "description": "The exported user (informative)."},
        "exported_at": _TIME,
        "items": {
            "type": "array",
            "description": "Every item of the user, oldest first, superseded ones included.",
            "items": {
                "type": "object",
                "required": list(ITEM_FIELDS),
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "text": {"type": "string", "minLength": 1, "maxLength": 20_000},
                    "key": {"type": ["string", "null"], "description": "The item's slot."},
                    "kind": {"type": "string", "maxLength": 32},
                    "importance": {"type": "number", "minimum": 0, "maximum": 1},
                    "provenance": {"type": "array", "items": {"type": "string"}},
                    "attributes": {"type": "object"},
                    "created_at": _TIME,
                    "valid_from": _TIME,
                    "valid_to": {
                        "anyOf": [_TIME, {"type": "null"}],
                        "description": "Set when a newer value superseded the item.",
                    },
                },
            },
        },
    },
}


@dataclass(frozen=True)
class ExportEntry:
    """One validated item of an export."""

    id: str
    item: MemoryItem
    created_at: datetime
    valid_from: datetime
    valid_to: datetime | None


def as_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC (a naive time is taken to be UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """Return ``value`` as an ISO 8601 UTC time (None stays None)."""
    return as_utc(value).isoformat() if value is not None else None


def _time(raw: Mapping[str, Any], field: str, where: str) -> datetime:
    value = raw.get(field)
    if not isinstance(value, str):
        raise InvalidInputError(f"{where}.{field} must be an ISO 8601 time")
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise InvalidInputError(f"{where}.{field} is not an ISO 8601 time: {value!r}") from exc


def _entry(raw: Any, index: int, keep_ids: bool) -> ExportEntry:
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
    try:
        item = MemoryItem(
            text=raw["text"],
            key=raw["key"],
            kind=raw["kind"],
            importance=float(raw["importance"]),
            provenance=[str(source) for source in raw["provenance"]],
            attributes=dict(raw["attributes"]),
        ).checked()
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: {exc}") from exc
    valid_from = _time(raw, "valid_from", where)
    valid_to = None if raw["valid_to"] is None else _time(raw, "valid_to", where)
    if valid_to is not None and valid_to < valid_from:
        raise InvalidInputError(f"{where}.valid_to is before its valid_from")
    return ExportEntry(item_id, item, _time(raw, "created_at", where), valid_from, valid_to)


def parse_export(data: Any, *, keep_ids: bool = False) -> list[ExportEntry]:
    """Validate a ``confidante.memory`` document and return its items, oldest first.

    Raises:
        InvalidInputError: The document is not a valid export (the message names the field).
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError("a memory export must be a JSON object")
    if data.get("format") != FORMAT:
        raise InvalidInputError(f"not a memory export: 'format' must be {FORMAT!r}")
    if data.get("version") != VERSION:
        raise InvalidInputError(f"unsupported export version {data.get('version')!r}")
    if not isinstance(data.get("user_id", ""), str):
        raise InvalidInputError("'user_id' must be a string")
    items = data.get("items")
    if not isinstance(items, list):
        raise InvalidInputError("'items' must be a list")
    entries = [_entry(raw, index, keep_ids) for index, raw in enumerate(items)]
    ids = [entry.id for entry in entries]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("item ids must be unique")
    return sorted(entries, key=lambda entry: (entry.valid_from, entry.created_at))
