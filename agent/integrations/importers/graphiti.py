"""Import a Zep / Graphiti export (episodes and facts with their validity) into confidante.

:func:`graphiti_to_export` reads one JSON object::

    {"user_id": "ana",                       # Zep: the user whose graph this is (optional)
     "episodes": [EpisodicNode, ...],        # what was said or ingested
     "edges": [EntityEdge, ...],             # the facts ("facts" or "entity_edges" too)
     "nodes": [EntityNode, ...]}             # optional: names of the facts' entities

with the records as Graphiti (``graphiti_core.nodes.EpisodicNode``,
``graphiti_core.edges.EntityEdge``, ``graphiti_core.nodes.EntityNode``) and Zep's graph API
(``graph.episode.get_by_user_id``, ``graph.edge.get_by_user_id``) serialise them:

- an episode: ``uuid``, ``group_id``, ``name``, ``content``, ``source`` (``message``, ``text``,
  ``json``), ``source_description``, ``created_at`` (when Graphiti ingested it) and
  ``valid_at`` (when it happened); Zep adds ``role``, ``role_type`` and ``session_id``;
- a fact: ``uuid``, ``group_id``, ``source_node_uuid``, ``target_node_uuid``, ``name``,
  ``fact``, ``episodes`` (the episodes it came from), ``created_at``, ``valid_at`` (when it
  became true), ``invalid_at`` (when it stopped being true), ``expired_at`` (when Graphiti
  learned it no longer held) and ``attributes``.

Mapping:

- **facts** become items of kind ``fact``: created when Graphiti learned them, valid from their
  ``valid_at``. A fact that was invalidated (``expired_at`` set, or an ``invalid_at`` already
  past) arrives as **superseded history** (valid until ``invalid_at``, else ``expired_at``),
  never as current; a fact with a future ``invalid_at`` stays current and keeps that date.
  Provenance: the turns of its episodes (those in the export) and ``graphiti:<uuid>``; the
  relation name, the entities' names and the raw dates are kept under ``graphiti``.
- **episodes** become raw turns (``events``), dated when they happened (``valid_at``, else
  ``created_at``), in the session ``session_id`` (Zep) or ``graphiti:<group_id>``; the role is
  Zep's ``role_type`` when it is ``user``, ``assistant`` or ``system``, else
  ``graphiti_<source>``. They are marked ``done``: the facts were already learned from them.

The user: Zep's ``user_id`` when the export has one, else the ``group_id`` of its records
(Graphiti's partition of the graph, one per user in a personal memory). An export naming
another user than the one imported into is refused unless ``source_user`` names that user;
an export of several groups is refused unless ``source_user`` picks one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from confidante.errors import InvalidInputError
from confidante.integrations.importers._common import (
    choose_user,
    document,
    event_id,
    item,
    optional_time,
    required_time,
)
from confidante.memory.portability.format import iso

__all__ = ["graphiti_to_export"]

SYSTEM = "Zep/Graphiti export"
_ROLES = frozenset({"user", "assistant", "system"})
_FACT_LISTS = ("edges", "facts", "entity_edges")


def _records(data: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    value = data.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInputError(f"'{field}' must be a list")
    for index, record in enumerate(value):
        if not isinstance(record, Mapping):
            raise InvalidInputError(f"{field}[{index}] must be an object")
    return list(value)


def _text(record: Mapping[str, Any], field: str, where: str) -> str:
    value = record.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{where} has no '{field}' text")
    return value


def _uuid(record: Mapping[str, Any], where: str) -> str:
    value = record.get("uuid")
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{where} has no 'uuid'")
    return value


def _episode_event(episode: Mapping[str, Any], where: str) -> dict[str, Any]:
    uuid = _uuid(episode, where)
    text = _text(episode, "content", where)
    happened = optional_time(episode, "valid_at", where)
    said_at = happened or required_time(episode, ("created_at",), where)
    source = str(episode.get("source") or "text")[:20]
    role_type = episode.get("role_type")
    group = episode.get("group_id")
    return {
        "id": event_id("graphiti", uuid),
        "session_id": str(episode.get("session_id") or f"graphiti:{group or 'graph'}")[:200],
        "role": role_type if role_type in _ROLES else f"graphiti_{source}",
        "text": text,
        "extraction": "done",
        "error": None,
        "created_at": iso(said_at),
        "occurred_at": iso(happened),
        "speaker": str(episode["role"])[:200] if episode.get("role") else None,
        "source_id": f"graphiti:{uuid}"[:200],
        "position": None,
    }


def _fact_item(
    edge: Mapping[str, Any],
    where: str,
    *,
    events: Mapping[str, str],
    names: Mapping[str, str],
    now: datetime,
    kind: str,
) -> dict[str, Any]:
    uuid = _uuid(edge, where)
    text = _text(edge, "fact", where)
    created = required_time(edge, ("created_at",), where)
    valid_at = optional_time(edge, "valid_at", where)
    invalid_at = optional_time(edge, "invalid_at", where)
    expired_at = optional_time(edge, "expired_at", where)
    start = valid_at or created
    if invalid_at is not None and invalid_at < start:
        raise InvalidInputError(f"{where}.invalid_at is before its valid_at")
    ended = expired_at is not None or (invalid_at is not None and invalid_at <= now)
    episodes = [str(e) for e in edge.get("episodes") or []]
    kept = {
        "uuid": uuid,
        "name": edge.get("name"),
        "source": names.get(str(edge.get("source_node_uuid")), edge.get("source_node_uuid")),
        "target": names.get(str(edge.get("target_node_uuid")), edge.get("target_node_uuid")),
        "episodes": episodes,
        "group_id": edge.get("group_id"),
        "valid_at": iso(valid_at),
        "invalid_at": iso(invalid_at),
        "expired_at": iso(expired_at),
        "attributes": edge.get("attributes") or {},
    }
    return item(
        f"graphiti:{uuid}",
        text,
        kind=kind,
        created_at=created,
        valid_from=start,
        valid_to=(invalid_at or expired_at) if ended else None,
        provenance=[*(events[e] for e in episodes if e in events), f"graphiti:{uuid}"],
        attributes={"graphiti": kept},
    )


def graphiti_to_export(
    data: Any,
    *,
    user_id: str | None = None,
    source_user: str | None = None,
    kind: str = "fact",
) -> dict[str, Any]:
    """Convert a Zep / Graphiti export to a ``confidante.memory`` document.

    Args:
        data: The parsed JSON (see the module docstring for the shape).
        user_id: The user it is imported into: an export naming someone else is refused.
        source_user: The export's user to import (a Zep ``user_id`` or a ``group_id``); maps
            that user's records to ``user_id`` on purpose.
        kind: The kind the imported facts get.

    Returns:
        A document for ``Memory.aimport`` / ``confidante memory import --format graphiti``.

    Raises:
        InvalidInputError: Not such an export, a record is malformed (the message names it), or
            the export is another user's (see the module docstring).
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"not a {SYSTEM}: expected a JSON object with 'episodes'/'edges'")
    fact_lists = [field for field in _FACT_LISTS if field in data]
    if "episodes" not in data and not fact_lists:
        raise InvalidInputError(f"not a {SYSTEM}: it has neither 'episodes' nor 'edges'")
    if len(fact_lists) > 1:
        raise InvalidInputError(f"a {SYSTEM} lists its facts once: got {', '.join(fact_lists)}")
    episodes = _records(data, "episodes")
    edges = _records(data, fact_lists[0]) if fact_lists else []
    nodes = _records(data, "nodes") or _records(data, "entities")
    zep_user = data.get("user_id")
    if zep_user is not None and not isinstance(zep_user, str):
        raise InvalidInputError("'user_id' must be a string")
    groups = [str(r["group_id"]) for r in (*episodes, *edges) if r.get("group_id")]
    chosen = choose_user(
        [zep_user] if zep_user else groups,
        user_id=user_id,
        source_user=source_user,
        system=SYSTEM,
        field="user_id" if zep_user else "group_id",
    )

    def kept(records: list[Mapping[str, Any]]) -> list[tuple[int, Mapping[str, Any]]]:
        """The records to import, with their position in the file (for messages)."""
        return [
            (index, record)
            for index, record in enumerate(records)
            if chosen is None or zep_user or str(record.get("group_id")) == chosen
        ]

    said = kept(episodes)
    events = [_episode_event(e, f"episodes[{i}]") for i, e in said]
    by_uuid = {str(e["uuid"]): event["id"] for (_, e), event in zip(said, events, strict=True)}
    names = {str(n.get("uuid")): str(n["name"]) for n in nodes if n.get("name")}
    fact_list = fact_lists[0] if fact_lists else "edges"
    now = datetime.now(UTC)
    items = [
        _fact_item(edge, f"{fact_list}[{i}]", events=by_uuid, names=names, now=now, kind=kind)
        for i, edge in kept(edges)
    ]
    return document(chosen or user_id, items, events)
