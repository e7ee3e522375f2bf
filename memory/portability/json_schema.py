"""The ``confidante.memory`` export format as data: its name, versions and JSON Schema.

:data:`JSON_SCHEMA` states the format (documented in
:mod:`confidante.memory.portability.transfer`) as a JSON Schema (draft 2020-12) for tools in
other languages; :mod:`confidante.memory.portability.format` validates documents in Python
(and re-exports these names).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EVENTS_SCHEMA",
    "FORMAT",
    "ITEM_FIELDS",
    "JSON_SCHEMA",
    "READABLE_VERSIONS",
    "SUBJECTS_SCHEMA",
    "VERSION",
]

FORMAT = "confidante.memory"
VERSION = 4
#: Versions :func:`~confidante.memory.portability.format.parse_export` reads.
READABLE_VERSIONS = (1, 2, 3, 4)
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
_OPTIONAL_TIME: dict[str, Any] = {"anyOf": [_TIME, {"type": "null"}]}
_OPTIONAL_TEXT: dict[str, Any] = {"type": ["string", "null"]}

#: The ``events`` list as a JSON Schema fragment (see ``JSON_SCHEMA``).
EVENTS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Every raw turn and interaction of the user, oldest first (version 2).",
    "items": {
        "type": "object",
        "required": ["id", "session_id", "role", "text", "created_at"],
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 32},
            "session_id": {"type": "string", "maxLength": 200},
            "role": {"type": "string", "maxLength": 32},
            "text": {"type": "string", "minLength": 1},
            "extraction": {"type": "string", "maxLength": 16},
            "error": _OPTIONAL_TEXT,
            "created_at": _TIME,
            "occurred_at": _OPTIONAL_TIME,
            "speaker": _OPTIONAL_TEXT,
            "source_id": _OPTIONAL_TEXT,
            "image_caption": _OPTIONAL_TEXT,
            "position": {"type": ["integer", "null"]},
        },
    },
}

#: The ``subjects`` list as a JSON Schema fragment (see ``JSON_SCHEMA``).
SUBJECTS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Every subject of the user: who or what items are about (version 3).",
    "items": {
        "type": "object",
        "required": ["id"],
        "anyOf": [  # a name or a relation
            {"required": [field], "properties": {field: {"type": "string", "minLength": 1}}}
            for field in ("name", "relation")
        ],
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 32},
            "name": {"type": ["string", "null"], "maxLength": 200},
            "relation": {"type": ["string", "null"], "maxLength": 100},
            "kind": {"type": "string", "maxLength": 16, "default": "person"},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "created_at": _TIME,
        },
    },
}

#: The format as a JSON Schema (draft 2020-12).
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": f"confidante.memory export, version {VERSION}",
    "type": "object",
    "required": ["format", "version", "items"],
    "properties": {
        "format": {"const": FORMAT},
        "version": {"enum": list(READABLE_VERSIONS)},
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
                    "image_png": {
                        "type": "string",
                        "contentEncoding": "base64",
                        "description": "Image items: the picture as a PNG file (version 2).",
                    },
                    "subject_id": {
                        "type": ["string", "null"],
                        "description": "The subject it is about (null: the user; version 3).",
                    },
                    "expires_at": {
                        "anyOf": [_TIME, {"type": "null"}],
                        "description": "When it expires (null: never; version 4). An item "
                        "already expired is not imported.",
                    },
                },
            },
        },
        "events": EVENTS_SCHEMA,
        "subjects": SUBJECTS_SCHEMA,
    },
}
