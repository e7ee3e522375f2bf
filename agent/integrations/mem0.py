"""Import memories exported from mem0 (``mem0ai``) into confidante.

:func:`mem0_to_export` turns what mem0 returns when asked for all of a user's memories into a
``confidante.memory`` document (:mod:`confidante.memory.portability.transfer`), which
``Memory.aimport`` then validates and writes. Accepted shapes, as mem0 produces them:

- the open-source ``Memory.get_all(...)`` result: ``{"results": [...]}`` (with ``"relations"``
  when a graph store is on; relations are not imported);
- the platform client's ``MemoryClient.get_all(...)``: a bare list (API v1) or a page
  ``{"count": ..., "next": ..., "previous": ..., "results": [...]}`` (API v2).

Each memory is an object with ``id``, ``memory`` (the text), ``hash``, ``metadata``,
``created_at``, ``updated_at``, and, depending on the version, ``user_id``, ``agent_id``,
``run_id``, ``actor_id``, ``role``, ``app_id``, ``categories``, ``immutable``,
``expiration_date``... Only ``memory`` is required.

Mapping: ``memory`` becomes the item's text (kind ``fact`` unless told otherwise, no slot,
importance 0.5); ``created_at`` its creation time and ``updated_at`` (or ``created_at``) the
time its current value holds from; the provenance is ``mem0:<id>``; everything else mem0
knew (ids, hash, metadata, categories...) is kept under the attribute ``mem0``.

Whose memories: the ``user_id`` of the memories, by the rule every importer follows
(:func:`~confidante.integrations.importers._common.choose_user`). An export that holds several
users' memories is refused unless ``source_user`` names the one to import, so two people's
memories never end up in one confidante user; an export of another user than ``user_id`` (the
user imported into) is refused unless ``source_user`` names that user, which maps it on
purpose. Memories that name no user belong to whoever the export is imported into.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from confidante.errors import InvalidInputError
from confidante.integrations.importers._common import choose_user
from confidante.memory.portability.format import FORMAT, VERSION, as_utc, iso

__all__ = ["mem0_records", "mem0_to_export"]

#: mem0 fields kept (when present and not null) under the item's ``mem0`` attribute.
KEPT_FIELDS = (
    "id",
    "hash",
    "metadata",
    "categories",
    "user_id",
    "agent_id",
    "app_id",
    "run_id",
    "actor_id",
    "role",
    "immutable",
    "expiration_date",
)


def mem0_records(data: Any) -> list[Mapping[str, Any]]:
    """Return the memory objects of a mem0 ``get_all`` result (any of the accepted shapes).

    Raises:
        InvalidInputError: The document has none of mem0's shapes.
    """
    records = data.get("results") if isinstance(data, Mapping) else data
    if not isinstance(records, list):
        raise InvalidInputError(
            "not a mem0 export: expected a list of memories or an object with 'results'"
        )
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InvalidInputError(f"mem0 memory [{index}] must be an object")
        if not isinstance(record.get("memory"), str) or not record["memory"].strip():
            raise InvalidInputError(f"mem0 memory [{index}] has no 'memory' text")
    return list(records)


def _time(value: Any, where: str, default: datetime) -> datetime:
    if value in (None, ""):
        return default
    if not isinstance(value, str):
        raise InvalidInputError(f"{where} must be an ISO 8601 time")
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise InvalidInputError(f"{where} is not an ISO 8601 time: {value!r}") from exc


def mem0_to_export(
    data: Any,
    *,
    user_id: str | None = None,
    source_user: str | None = None,
    kind: str = "fact",
) -> dict[str, Any]:
    """Convert a mem0 ``get_all`` result to a ``confidante.memory`` document.

    Args:
        data: The parsed JSON of mem0's result (see the module docstring for the shapes).
        user_id: The user it is imported into: an export of another mem0 user is refused
            (None: no check, as for a call that only converts).
        source_user: Import only the memories whose ``user_id`` is this one; it may differ
            from ``user_id``, which maps that user's memories to ``user_id`` on purpose.
        kind: The kind the imported items get.

    Returns:
        A document for ``Memory.aimport`` / ``confidante memory import``.

    Raises:
        InvalidInputError: Not a mem0 export, a memory is malformed, the export mixes several
            users and ``source_user`` is not given, ``source_user`` is not in the export, or
            the export is another user's and ``source_user`` does not name them.
    """
    records = mem0_records(data)
    chosen = choose_user(
        (str(r["user_id"]) for r in records if r.get("user_id") is not None),
        user_id=user_id,
        source_user=source_user,
        system="mem0 export",
        field="user_id",
    )
    if chosen is not None:
        records = [r for r in records if r.get("user_id") in (None, chosen)]
    now = datetime.now(UTC)
    items = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        where = f"mem0 memory [{index}]"
        created = _time(record.get("created_at"), f"{where}.created_at", now)
        valid_from = _time(record.get("updated_at"), f"{where}.updated_at", created)
        mem0_id = str(record.get("id") or f"mem0-{index}")
        item_id = mem0_id if mem0_id not in seen else f"{mem0_id}#{index}"
        seen.add(item_id)
        kept = {name: record[name] for name in KEPT_FIELDS if record.get(name) is not None}
        items.append(
            {
                "id": item_id,
                "text": record["memory"],
                "key": None,
                "kind": kind,
                "importance": 0.5,
                "provenance": [f"mem0:{mem0_id}"],
                "attributes": {"mem0": kept},
                "created_at": iso(created),
                "valid_from": iso(max(valid_from, created)),
                "valid_to": None,
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "user_id": chosen or user_id or "",
        "exported_at": iso(now),
        "items": items,
    }
