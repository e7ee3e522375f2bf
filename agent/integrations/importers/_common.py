"""What the importers of other memory systems share: times, ids, the user check, the document.

Each importer turns a system's export into a ``confidante.memory`` document
(:mod:`confidante.memory.portability.transfer`), which ``Memory.aimport`` validates as a whole
and writes in one transaction, so nothing is ever half-imported. Before that, the importer
refuses what it cannot read faithfully, with a message naming the faulty record and field.

Whose memories: every format names its user somewhere (a Letta identity, a Graphiti
``group_id``, a LangGraph namespace label). :func:`choose_user` applies one rule to all of
them: an export that names several users is refused unless ``source_user`` picks one, and an
export naming someone other than the target user is refused unless ``source_user`` names that
someone, which says on purpose "import their memories as this user's".
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from confidante.errors import InvalidInputError
from confidante.memory.portability.format import FORMAT, VERSION, as_utc, iso

__all__ = [
    "choose_user",
    "document",
    "event_id",
    "item",
    "optional_time",
    "parse_json_text",
    "required_time",
]


def parse_json_text(data: Any, what: str) -> Any:
    """Return ``data``, decoded once more when it is a JSON document held in a JSON string.

    Some published exports are JSON strings whose content is the JSON document (the example
    agent files of Letta's ``agent-file`` repository, for one).
    """
    if not isinstance(data, str):
        return data
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"not a {what}: a JSON string that is not a JSON document") from exc


def _time(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise InvalidInputError(f"{where} must be an ISO 8601 time")
    text = value.strip().replace("Z", "+00:00")
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise InvalidInputError(f"{where} is not an ISO 8601 time: {value!r}") from exc


def optional_time(record: Mapping[str, Any], field: str, where: str) -> datetime | None:
    """Read ``record[field]`` as a time (ISO 8601, or seconds since 1970), or None if absent.

    Raises:
        InvalidInputError: The field holds something that is not a time.
    """
    return _time(record.get(field), f"{where}.{field}")


def required_time(record: Mapping[str, Any], fields: Iterable[str], where: str) -> datetime:
    """Return the first of ``fields`` that holds a time.

    Raises:
        InvalidInputError: None of them holds one (the message names them), or one holds
            something that is not a time.
    """
    names = list(fields)
    for field in names:
        value = optional_time(record, field, where)
        if value is not None:
            return value
    raise InvalidInputError(f"{where} has no time: expected {' or '.join(names)}")


def event_id(system: str, raw: Any, *context: Any) -> str:
    """Return a stable 32-character event id for a record id of another system.

    An id that is or ends in a UUID (``"message-<uuid>"``) keeps its 32 hex digits, so
    provenance that names it stays readable. Any other id (an agent file's ``"message-0"``,
    unique only within its file) is hashed with the system's name and ``context`` (its time and
    text), so two files never share an id. Re-importing the same export finds the same ids.
    """
    text = str(raw)
    tail = text.split("-", 1)[1] if text.count("-") == 5 else text
    try:
        return uuid.UUID(tail).hex
    except ValueError:
        material = json.dumps([system, text, *context], default=str, ensure_ascii=False)
        return hashlib.sha256(material.encode()).hexdigest()[:32]


def item(
    item_id: str,
    text: str,
    *,
    kind: str,
    created_at: datetime,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    provenance: list[str],
    attributes: dict[str, Any],
    key: str | None = None,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """Return one item of a ``confidante.memory`` document (its times in ISO 8601 UTC).

    ``expires_at``, when given, is when the item expires in the other system too: the memory
    then never returns it after that moment, and its sweep erases it.
    """
    start = valid_from or created_at
    extra = {"expires_at": iso(expires_at)} if expires_at is not None else {}
    return {
        "id": item_id,
        "text": text,
        "key": key,
        "kind": kind,
        "importance": 0.5,
        "provenance": provenance,
        "attributes": attributes,
        "created_at": iso(created_at),
        "valid_from": iso(start),
        "valid_to": iso(max(valid_to, start)) if valid_to is not None else None,
        **extra,
    }


def document(
    user: str | None, items: list[dict[str, Any]], events: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Return a ``confidante.memory`` document of these items and events."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "user_id": user or "",
        "exported_at": iso(datetime.now(UTC)),
        "subjects": [],
        "items": items,
        "events": events or [],
    }


def choose_user(
    named: Iterable[str],
    *,
    user_id: str | None,
    source_user: str | None,
    system: str,
    field: str,
) -> str | None:
    """Decide whose records of an export are imported; refuse another user's export.

    Args:
        named: The users the export names (one entry per record, repeats allowed).
        user_id: The confidante user imported into (None: no check, as for a library call
            that only converts).
        source_user: The user of the export to import, chosen on purpose (``--source-user``);
            it may differ from ``user_id``: that is the explicit mapping.
        system: The system's name, for messages ("Letta agent file").
        field: What names the user in this format, for messages ("group_id").

    Returns:
        The export's user whose records are imported, or None to import every record (the
        export names no user).

    Raises:
        InvalidInputError: ``source_user`` is not in the export, the export names several users
            and ``source_user`` is not given, or it names another user than ``user_id``.
    """
    users = sorted(set(named))
    shown = ", ".join(repr(user) for user in users[:10])
    if source_user is not None:
        if users and source_user not in users:
            raise InvalidInputError(
                f"this {system} names no user {source_user!r} ({field}: {shown})"
            )
        return source_user
    if not users:
        return None
    if len(users) > 1:
        raise InvalidInputError(
            f"this {system} holds the memories of several users ({field}: {shown}): "
            "choose one with --source-user (source_user=)"
        )
    (only,) = users
    if user_id is not None and only != user_id:
        raise InvalidInputError(
            f"this {system} is the memory of another user ({field} {only!r}, not {user_id!r}): "
            f"to import it into {user_id!r} all the same, pass --source-user {only} "
            "(source_user=)"
        )
    return only
