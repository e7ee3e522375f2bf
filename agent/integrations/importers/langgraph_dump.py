"""Import a dump of a LangGraph store (namespace, key, value) into confidante.

:func:`langgraph_to_export` reads the items of any LangGraph ``BaseStore`` (``InMemoryStore``,
``PostgresStore``, ``SqliteStore``, or confidante's own
:class:`~confidante.integrations.langgraph_store.ConfidanteStore`), as a JSON list or as
``{"items": [...]}``. Each item is either:

- what ``Item.dict()`` returns (``store.search(prefix)`` / ``store.get(...)`` then ``.dict()``):
  ``{"namespace": [...], "key": "...", "value": {...}, "created_at": ISO, "updated_at": ISO}``;
- or a row of the SQL stores' ``store`` table: ``prefix`` (the namespace joined with ``.``),
  ``key``, ``value`` (an object, or its JSON text), ``created_at``, ``updated_at`` and, with a
  TTL, ``expires_at`` and ``ttl_minutes``.

Each item becomes exactly what ``ConfidanteStore.put`` would have stored: a memory item of kind
``langgraph`` whose slot is its namespace and key, whose text is every string of its value and
whose ``langgraph`` attribute holds the namespace, key, value, TTL and its **own** times
(``created_at``, ``updated_at``: the item's, not the import's). So after the import
``ConfidanteStore(memory).get(namespace, key)`` returns the item as the old store did, and the
assistant recalls it. An item whose TTL had already run out is not imported; one whose TTL
runs keeps its ``expires_at`` as the memory item's own expiry, so it expires when it would
have in the old store (and a read through ``ConfidanteStore`` refreshes it as LangGraph's
``refresh_on_read`` does).

The user: the namespace label at ``user_label`` (0 by default, as in
``namespace = (user_id, "memories")`` and ``ConfidanteStore``'s default; ``user_at(n)`` is
``user_label=n``). A dump holding several users' namespaces is refused unless ``source_user``
picks one; a dump of another user than the one imported into is refused unless
``source_user`` names that user, and then the user label of each namespace becomes the target
user, so the store finds the items under the namespaces of the user they now belong to.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from confidante.errors import InvalidInputError
from confidante.integrations._store_values import ATTRIBUTE, slot_of, text_of
from confidante.integrations.importers._common import (
    choose_user,
    document,
    item,
    optional_time,
    required_time,
)
from confidante.memory.portability.format import iso

__all__ = ["langgraph_to_export"]

SYSTEM = "LangGraph store dump"


def _records(data: Any) -> list[Mapping[str, Any]]:
    records = data.get("items") if isinstance(data, Mapping) else data
    if not isinstance(records, list):
        raise InvalidInputError(f"not a {SYSTEM}: expected a list of items or {{'items': [...]}}")
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InvalidInputError(f"items[{index}] must be an object")
    return list(records)


def _namespace(record: Mapping[str, Any], where: str) -> tuple[str, ...]:
    if "namespace" in record:
        raw = record["namespace"]
        if not isinstance(raw, list | tuple):
            raise InvalidInputError(f"{where}.namespace must be a list of labels")
        labels = tuple(raw)
    elif isinstance(record.get("prefix"), str):
        labels = tuple(record["prefix"].split("."))
    else:
        raise InvalidInputError(f"{where} has no 'namespace' (or 'prefix')")
    if not labels or not all(isinstance(label, str) and label for label in labels):
        raise InvalidInputError(f"{where}.namespace must be non-empty text labels")
    return labels


def _value(record: Mapping[str, Any], where: str) -> dict[str, Any]:
    value = record.get("value")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{where}.value is neither an object nor its JSON") from exc
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{where}.value must be an object")
    return dict(value)


def _ttl(record: Mapping[str, Any], where: str) -> float | None:
    ttl = record.get("ttl_minutes", record.get("ttl"))
    if ttl is None:
        return None
    if not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl <= 0:
        raise InvalidInputError(f"{where}.ttl_minutes must be a positive number")
    return float(ttl)


def langgraph_to_export(
    data: Any,
    *,
    user_id: str | None = None,
    source_user: str | None = None,
    user_label: int = 0,
    kind: str = "langgraph",
) -> dict[str, Any]:
    """Convert a LangGraph store dump to a ``confidante.memory`` document.

    Args:
        data: The parsed JSON (see the module docstring for the shapes).
        user_id: The user it is imported into: a dump of someone else's namespaces is refused.
        source_user: The namespace user label to import; maps that user's items to
            ``user_id`` on purpose (their namespaces then name ``user_id``).
        user_label: Which namespace label names the user.
        kind: The memory kind of the items (``ConfidanteStore``'s ``kind``).

    Returns:
        A document for ``Memory.aimport`` / ``confidante memory import --format langgraph``.

    Raises:
        InvalidInputError: Not a store dump, an item is malformed or appears twice (the
            message names it), or the dump is another user's (see the module docstring).
    """
    records = _records(data)
    namespaces = []
    for index, record in enumerate(records):
        namespace = _namespace(record, f"items[{index}]")
        if len(namespace) <= user_label:
            raise InvalidInputError(
                f"items[{index}].namespace {list(namespace)} has no label {user_label} "
                "to name its user"
            )
        namespaces.append(namespace)
    chosen = choose_user(
        (namespace[user_label] for namespace in namespaces),
        user_id=user_id,
        source_user=source_user,
        system=SYSTEM,
        field=f"namespace label {user_label}",
    )
    now = datetime.now(UTC)
    items: list[dict[str, Any]] = []
    seen: set[tuple[tuple[str, ...], str]] = set()
    for index, (record, namespace) in enumerate(zip(records, namespaces, strict=True)):
        where = f"items[{index}]"
        if chosen is not None and namespace[user_label] != chosen:
            continue
        key = record.get("key")
        if not isinstance(key, str) or not key:
            raise InvalidInputError(f"{where} has no 'key'")
        if user_id is not None:
            namespace = (*namespace[:user_label], user_id, *namespace[user_label + 1 :])
        if (namespace, key) in seen:
            raise InvalidInputError(f"{where}: the key {key!r} appears twice in {list(namespace)}")
        seen.add((namespace, key))
        value = _value(record, where)
        created = required_time(record, ("created_at",), where)
        updated = optional_time(record, "updated_at", where) or created
        expiry = optional_time(record, "expires_at", where)
        if expiry is not None and expiry <= now:
            continue  # LangGraph would no longer return it
        stored = {
            "namespace": list(namespace),
            "key": key,
            "value": value,
            "created_at": iso(created),
            "updated_at": iso(updated),
            "ttl": _ttl(record, where),
            "expires_at": iso(expiry),
            "indexed": True,
        }
        items.append(
            item(
                f"langgraph:{index}",
                text_of(value, None),
                key=slot_of(namespace, key),
                kind=kind,
                created_at=created,
                valid_from=max(updated, created),
                provenance=["langgraph:" + "/".join(namespace) + ":" + key],
                attributes={ATTRIBUTE: stored},
                expires_at=expiry,
            )
        )
    return document(chosen or user_id, items)
