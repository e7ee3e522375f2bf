"""Helpers of :mod:`confidante.integrations.langgraph_store`: slots, texts, filters, TTLs.

A LangGraph item lives in the memory as one item whose attribute ``langgraph`` holds::

    {"namespace": [...], "key": "...", "value": {...}, "created_at": ISO, "updated_at": ISO,
     "ttl": minutes or null, "expires_at": ISO or null, "indexed": true}

An item with a TTL also carries the same moment as the memory item's own ``expires_at``
(:mod:`confidante.memory.storage.expiry`), so the memory's reads drop it once expired and its
sweep erases it; the record's copy is what items written before that still carry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph.store.base import MatchCondition
from langgraph.store.base.embed import get_text_at_path

from confidante.memory.items import MAX_TEXT_CHARS, MemoryHit
from confidante.memory.storage.expiry import has_expired

__all__ = [
    "ATTRIBUTE",
    "expiry_of",
    "is_expired",
    "item_expired",
    "matches_condition",
    "matches_filter",
    "slot_of",
    "text_of",
]

#: The attribute of a memory item that holds the LangGraph item.
ATTRIBUTE = "langgraph"


def slot_of(namespace: Sequence[str], key: str) -> str:
    """Return the memory slot (item ``key``) of a LangGraph item: ``lg_`` + a hash."""
    digest = hashlib.sha256(json.dumps([list(namespace), key]).encode()).hexdigest()
    return f"lg_{digest[:48]}"


def _string_leaves(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for child in value.values() for text in _string_leaves(child)]
    if isinstance(value, list | tuple):
        return [text for child in value for text in _string_leaves(child)]
    return []


def text_of(value: Mapping[str, Any], fields: Sequence[str] | None) -> str:
    """Return the text the memory embeds and matches for a value.

    With ``fields`` (LangGraph JSON paths such as ``"text"``, ``"facts[*].content"`` or
    ``"$"`` for the whole value), the text at those paths; without, every string in the value,
    in order. A value without text is represented by its JSON. Cut at the memory's limit.
    """
    if fields is None:
        texts = _string_leaves(value)
    else:
        texts = [text for field in fields for text in get_text_at_path(value, field)]
    text = "\n".join(part for part in texts if part.strip())
    if not text.strip():
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text[:MAX_TEXT_CHARS]


def expiry_of(ttl_minutes: float | None, now: datetime) -> datetime | None:
    """Return when an item with this TTL (minutes) expires (None: never)."""
    if ttl_minutes is None:
        return None
    return now + timedelta(minutes=ttl_minutes)


def is_expired(record: Mapping[str, Any], now: datetime) -> bool:
    """Whether a stored LangGraph item has expired."""
    expiry = record.get("expires_at")
    if not expiry:
        return False
    when = datetime.fromisoformat(str(expiry))
    return (when if when.tzinfo else when.replace(tzinfo=UTC)) <= now


def item_expired(hit: MemoryHit, now: datetime) -> bool:
    """Whether a store item has expired: by the memory item's own expiry, or by its record's.

    The record's is what items stored before the memory had expiries carry.
    """
    record = hit.attributes.get(ATTRIBUTE)
    lapsed = isinstance(record, Mapping) and is_expired(record, now)
    return has_expired(hit.expires_at, now) or lapsed


def _operator(actual: Any, operator: str, expected: Any) -> bool:
    if operator == "$eq":
        return bool(actual == expected)
    if operator == "$ne":
        return bool(actual != expected)
    if operator not in {"$gt", "$gte", "$lt", "$lte"}:
        raise ValueError(f"unsupported filter operator {operator!r}")
    try:
        left, right = float(actual), float(expected)
    except (TypeError, ValueError):
        return False
    if operator == "$gt":
        return left > right
    if operator == "$gte":
        return left >= right
    if operator == "$lt":
        return left < right
    return left <= right


def _matches(actual: Any, expected: Any) -> bool:
    if isinstance(expected, Mapping):
        if any(str(name).startswith("$") for name in expected):
            return all(_operator(actual, op, operand) for op, operand in expected.items())
        return isinstance(actual, Mapping) and all(
            _matches(actual.get(name), sub) for name, sub in expected.items()
        )
    if isinstance(expected, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(expected)
            and all(_matches(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return bool(actual == expected)


def matches_filter(value: Mapping[str, Any], filter_: Mapping[str, Any] | None) -> bool:
    """Whether a value passes a LangGraph search filter.

    Top-level fields match exactly (nested objects field by field) or through the operators
    ``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt`` and ``$lte``, as LangGraph documents them.
    """
    if not filter_:
        return True
    return all(_matches(value.get(name), expected) for name, expected in filter_.items())


def matches_condition(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """Whether a namespace matches a prefix or suffix condition (``"*"`` matches any label)."""
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        pairs = zip(namespace, path, strict=False)
    elif condition.match_type == "suffix":
        pairs = zip(reversed(namespace), reversed(path), strict=False)
    else:
        raise ValueError(f"unsupported match type {condition.match_type!r}")
    return all(wanted in ("*", label) for label, wanted in pairs)
