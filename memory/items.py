"""Values that cross the memory's public API, and the validation of what callers pass in."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from confidante.errors import InvalidInputError
from confidante.memory.scopes import GLOBAL_OWNER, PERSONA_PREFIX, is_reserved_owner
from confidante.memory.storage.expiry import check_expiry, has_expired
from confidante.memory.storage.records import Concept

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 20_000
#: The kind of a user's decision on a tool call ("The user declined add reminder (...)").
TOOL_OUTCOME_KIND = "tool_outcome"
#: Kinds a retrieval leaves out unless they are asked for by kind: the record of what tools
#: did competes with what the user said, so it is listed, exported and erased, never recalled
#: in passing.
UNRECALLED_KINDS = frozenset({TOOL_OUTCOME_KIND})
#: The largest attributes of one item, as UTF-8 JSON: they are read with every listing.
MAX_ATTRIBUTE_BYTES = 16_384
#: How deep attributes may nest (pydantic, which writes every answer, stops at 255 levels).
MAX_ATTRIBUTE_DEPTH = 32
#: Deeper stored values are left out of reads (see :func:`readable`); a margin below 255.
_READABLE_DEPTH = 200
_KEY_PATTERN = re.compile(r"[^a-z0-9]+")


class MemoryHit(BaseModel):
    """One memory item as returned to callers.

    Attributes:
        id: The item's id.
        text: Its text.
        key: Its stable slot, if any.
        kind: ``fact``, ``preference``, ``event``, ``reminder``...
        scope: ``user``, ``persona`` or ``global`` (see :mod:`confidante.memory.scopes`).
        score: Relevance to the query (1.0 is best; 0 when listing).
        provenance: Ids of the turns or documents it came from.
        attributes: Typed attributes given when it was remembered.
        importance: 0..1.
        created_at: When it was first remembered.
        valid_from: When it became true (for conversation turns, when they were said).
        valid_to: When it stopped being current (None while current).
        image_path: For image concepts, the stored image file.
        subject_id: The subject the item is about (see :mod:`confidante.memory.subjects.directory`);
            None when it is about the user.
        expires_at: When it expires (None: never); see :mod:`confidante.memory.storage.expiry`.
    """

    id: str
    text: str
    key: str | None = None
    kind: str = "fact"
    scope: str = "user"
    score: float = 0.0
    provenance: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    importance: float = 0.5
    created_at: datetime
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    image_path: str | None = None
    subject_id: str | None = None
    expires_at: datetime | None = None

    @classmethod
    def of(cls, concept: Concept, score: float = 0.0) -> MemoryHit:
        """Build a hit from a stored concept."""
        return cls(
            id=concept.id,
            text=concept.text,
            key=concept.key,
            kind=concept.kind,
            scope=concept.scope,
            score=score,
            provenance=list(concept.provenance or []),
            attributes=dict(concept.attributes or {}),
            importance=concept.importance,
            created_at=concept.created_at,
            valid_from=concept.valid_from,
            valid_to=concept.valid_to,
            image_path=concept.image_path,
            subject_id=concept.subject_id,
            expires_at=as_utc(concept.expires_at),
        )


def readable(concepts: Iterable[Concept], now: datetime | None = None) -> list[Concept]:
    """Return the concepts that may be read: not expired, with values that can be written out.

    An expired concept (``expires_at`` at or before ``now``, default now) is left out silently:
    queries filter on it too, this is the last guard of every read that goes through here.

    A row stored before its values were checked (a lone surrogate in its attributes, say) can
    never be encoded as UTF-8; returned, it would fail the whole listing, search, export or chat
    turn that read it. It is left out instead, with a warning that names it.
    """
    now = now or datetime.now(UTC)
    kept = []
    for concept in concepts:
        if has_expired(concept.expires_at, now):
            continue
        if _writable(
            [
                concept.text,
                concept.key,
                concept.kind,
                concept.attributes,
                concept.provenance,
                concept.subject_id,
                concept.image_path,
            ]
        ):
            kept.append(concept)
        else:
            logger.warning(
                "memory %s of user %s has stored values that are not valid text; it is left out"
                " of reads (fix or forget it)",
                shown(concept.id),
                shown(concept.user_id),
            )
    return kept


def _writable(values: object) -> bool:
    """Whether ``values`` can be written out as strict JSON in UTF-8, by json and pydantic."""
    if _depth(values) > _READABLE_DEPTH:
        return False
    try:
        json.dumps(values, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return False
    return True


def _depth(value: object) -> int:
    """How deep a JSON value nests (a stack, not recursion: the depth is the data's)."""
    deepest = 0
    pending: list[tuple[int, object]] = [(1, value)]
    while pending:
        depth, item = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            pending.extend((depth + 1, inner) for inner in item.values())
        elif isinstance(item, list | tuple):
            pending.extend((depth + 1, inner) for inner in item)
    return deepest


def check_user_id(user_id: str) -> str:
    """Validate a user id (non-empty printable text, at most 200 characters)."""
    if not isinstance(user_id, str) or not user_id.strip():
        raise InvalidInputError("user_id must be a non-empty string")
    if len(user_id) > 200 or not user_id.isprintable():
        raise InvalidInputError("user_id must be printable and at most 200 characters")
    return user_id


def check_person_id(user_id: str) -> str:
    """Validate the id of a person (a key's user, a chat's user): not a reserved owner.

    Ids that begin with ``@`` name the shared scopes (``@global``, ``@persona:NAME``, see
    :mod:`confidante.memory.scopes`), whose memories every user's retrieval may read. Whoever
    acts as one of them plants memories in other users' answers, so they never name a person
    that comes from outside (an API key, a ``--user`` option).
    """
    check_user_id(user_id)
    if is_reserved_owner(user_id):
        raise InvalidInputError(
            f"user id {shown(user_id, 40)} is reserved for shared memories"
            f" ({GLOBAL_OWNER!r}, {PERSONA_PREFIX!r}NAME): ids that begin with '@'"
            " never name a person"
        )
    return user_id


def check_text(text: str, what: str = "text") -> str:
    """Validate memory text: non-empty, at most 20,000 characters, no NUL bytes."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"{what} must be a non-empty string")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInputError(f"{what} is longer than {MAX_TEXT_CHARS} characters")
    if "\x00" in text:
        raise InvalidInputError(f"{what} contains a NUL character")
    if not _encodable(text):
        raise InvalidInputError(f"{what} is not valid Unicode (it has a lone surrogate)")
    return text.strip()


def _encodable(text: str) -> bool:
    """Whether ``text`` can be stored as UTF-8 (no lone surrogates, e.g. from bad bytes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_label(value: str, what: str, max_chars: int) -> str:
    """Validate a short stored label (a kind, role, session id...): it must fit its column.

    PostgreSQL refuses over-long values and NUL characters that SQLite would store, so both
    backends refuse them here, with the same error.
    """
    if not isinstance(value, str) or len(value) > max_chars or "\x00" in value:
        raise InvalidInputError(f"{what} must be text of at most {max_chars} characters, no NUL")
    return value


def check_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Validate attributes: strict JSON whose every string is storable text.

    PostgreSQL's JSON refuses NaN and infinities and NUL characters. A lone surrogate is
    stored by SQLite's JSON (as an escape) but can never be written out as UTF-8 again: every
    later listing, search or export of the user would fail. So the keys and string values are
    checked like text, at every depth, and the depth is bounded: every answer is written by
    pydantic, which gives up at 255 levels (a stack here, not recursion).
    """
    if not isinstance(attributes, dict):
        raise InvalidInputError("attributes must be a JSON object")
    for name, top in attributes.items():
        where = f"attributes[{shown(name, 40)}]"  # errors name the top-level attribute
        if isinstance(name, str):
            _check_json_string(name, f"the name of {where}")
        pending: list[tuple[int, Any]] = [(1, top)]
        while pending:
            depth, value = pending.pop()
            if depth > MAX_ATTRIBUTE_DEPTH:
                raise InvalidInputError(
                    f"{where} is nested more than {MAX_ATTRIBUTE_DEPTH} levels deep"
                )
            if isinstance(value, dict):
                for key, inner in value.items():
                    if isinstance(key, str):
                        _check_json_string(key, f"a key in {where}")
                    pending.append((depth + 1, inner))
            elif isinstance(value, list | tuple):
                pending.extend((depth + 1, inner) for inner in value)
            elif isinstance(value, str):
                _check_json_string(value, where)
    check_attribute_size(attributes)  # after the depth check: the encoder cannot run out of stack
    return attributes


def check_attribute_size(attributes: dict[str, Any]) -> None:
    """Refuse attributes that are not strict JSON or over :data:`MAX_ATTRIBUTE_BYTES`."""
    try:
        size = len(json.dumps(attributes, allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"attributes must be JSON-serialisable: {exc}") from exc
    if size > MAX_ATTRIBUTE_BYTES:
        raise InvalidInputError(
            f"attributes are {size:,} bytes of JSON; the limit is {MAX_ATTRIBUTE_BYTES:,} "
            "(keep large data elsewhere and store a reference)"
        )


def _check_json_string(text: str, where: str) -> None:
    if "\x00" in text:
        raise InvalidInputError(f"{where} contains a NUL character")
    if not _encodable(text):
        raise InvalidInputError(f"{where} is not valid Unicode (it has a lone surrogate)")


def shown(value: object, limit: int = 64) -> str:
    """Return a value quoted for an error message, cut to ``limit`` characters.

    Ids and keys come from requests; echoing a 20,000-character id back in an error helps
    nobody (and a lone surrogate could not even be encoded): ``'abc...' (20000 characters)``.
    """
    text = str(value).encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def as_utc(moment: datetime | None) -> datetime | None:
    """Return ``moment`` as an aware UTC time (a naive time is taken as UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _storable_id(value: object) -> bool:
    """Whether ``value`` can be looked up as an id on every backend (PostgreSQL refuses NUL)."""
    return isinstance(value, str) and "\x00" not in value and _encodable(value)


def normalise_key(key: str | None) -> str | None:
    """Turn a slot name into ``snake_case`` (``"Home City"`` → ``"home_city"``)."""
    if key is None:
        return None
    normalised = _KEY_PATTERN.sub("_", key.lower()).strip("_")
    return normalised[:100] or None


def text_fingerprint(text: str) -> str:
    """Return a short hash of a text, equal for texts that differ only in case and spacing."""
    normal = " ".join(text.lower().split()).rstrip(".")
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


class MemoryItem(BaseModel):
    """One item to remember in a batch (see ``Memory.aremember_many``).

    Attributes:
        text: A self-contained statement.
        key: A stable slot; a new value supersedes the current one.
        kind: The item's kind.
        importance: 0..1.
        provenance: Ids of the turns or documents it came from.
        attributes: Typed attributes (JSON).
        valid_from: When the item became true (default: when it is written); conversation
            turns use the time they were said, so time filters see when things happened.
        subject_id: The user's subject the item is about (None: the user); a slot's value is
            per subject ("Ana lives in Berlin" does not supersede where the user lives).
        replaces: Ids of the user's current items that the new one makes no longer true
            (superseded together with the write, history kept).
        expires_at: When the item expires (None: never): it is then never read again, and
            erased by the next sweep. Naive means UTC; it must be in the future.
    """

    text: str
    key: str | None = None
    kind: str = "fact"
    importance: float = 0.5
    provenance: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    valid_from: datetime | None = None
    subject_id: str | None = None
    replaces: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None

    def checked(self) -> MemoryItem:
        """Return the item validated and normalised, or raise ``InvalidInputError``."""
        if not 0.0 <= self.importance <= 1.0:
            raise InvalidInputError("importance must be between 0 and 1")
        return self.model_copy(
            update={
                "text": check_text(self.text),
                "key": normalise_key(self.key),
                "kind": check_label(self.kind, "kind", 32),
                "provenance": [str(source) for source in self.provenance],
                "attributes": check_attributes(dict(self.attributes)),
                "valid_from": as_utc(self.valid_from),
                "replaces": [str(item) for item in self.replaces if _storable_id(item)],
                "expires_at": check_expiry(self.expires_at),
            }
        )
