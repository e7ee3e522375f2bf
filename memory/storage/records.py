"""Database records of the personal memory (sqlmodel tables).

Every row that holds a user's content carries ``user_id``; every query filters on it.

- :class:`UserRecord`: one person.
- :class:`Concept`: one memory item of the key-value store: a key (a stable slot such as
  ``home_city``, or empty for free-form facts), a text, typed attributes, a kind, a scope,
  provenance, importance, a validity interval and an optional expiry (``expires_at``, see
  :mod:`confidante.memory.storage.expiry`). A superseded or forgotten concept keeps its
  row with ``valid_to`` set (history), except after ``forget_user``.
- :class:`Subject`: someone or something in a user's life (a person, pet, place or
  organisation) that facts can be about, with its relation to the user (see
  :mod:`confidante.memory.subjects.directory`). A concept whose ``subject_id`` is empty is about
  the user.
- :class:`ConceptVector`: the embedding of a concept's text, stored as float32 bytes.
- :class:`ConceptImageVector`: the embedding of an image concept's image (an image embedder
  such as CLIP), stored as float32 bytes.
- :class:`Event`: every raw turn or interaction, kept even when fact extraction fails.
- :class:`AuditEntry`: every add, update, merge, supersede and forget, with what it replaced.
- :class:`Summary`: an offline task-aware summary of a user (one per user and task), with the
  watermark of the data it was built from (see :mod:`confidante.memory.summaries.generate`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Return the current time in UTC (timezone-aware; sqlmodel stores it as UTC)."""
    return datetime.now(UTC)


def new_id() -> str:
    """Return a fresh random identifier (32 hex characters)."""
    return uuid.uuid4().hex


class UserRecord(SQLModel, table=True):
    """A user of the assistant."""

    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    vector_seq: int = 0


class Concept(SQLModel, table=True):
    """One memory item (a concept of the RAP key-value store)."""

    __tablename__ = "concepts"
    __table_args__ = (Index("ix_concepts_user_text_hash", "user_id", "text_hash"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(index=True, max_length=200)
    scope: str = Field(default="user", max_length=16)
    kind: str = Field(default="fact", index=True, max_length=32)
    key: str | None = Field(default=None, index=True, max_length=100)
    text: str
    text_hash: str | None = Field(default=None, max_length=32)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    provenance: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    importance: float = 0.5
    valid_from: datetime = Field(default_factory=utcnow)
    valid_to: datetime | None = Field(default=None, index=True)
    superseded_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    image_path: str | None = Field(default=None, max_length=1000)  # image concepts: the file
    subject_id: str | None = Field(default=None, index=True, max_length=32)  # None: the user
    expires_at: datetime | None = None  # from then on never read; erased by the sweep


class Subject(SQLModel, table=True):
    """Someone or something in a user's life that facts are about (``subjects.directory``).

    ``name`` is how the user calls them ("Ana", "Rex"; empty while only the relation is known,
    as in "my mother"); ``relation`` is who they are to the user ("sister", "cat",
    "former partner"); ``aliases`` are earlier names (after a correction or a rename).
    """

    __tablename__ = "subjects"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(index=True, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    relation: str | None = Field(default=None, max_length=100)
    kind: str = Field(default="person", max_length=16)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ConceptVector(SQLModel, table=True):
    """The text embedding of a concept."""

    __tablename__ = "concept_vectors"
    __table_args__ = (Index("ix_concept_vectors_user_seq", "user_id", "model", "seq"),)

    concept_id: str = Field(primary_key=True, foreign_key="concepts.id", max_length=32)
    user_id: str = Field(index=True, max_length=200)
    model: str = Field(max_length=100)
    seq: int = 0
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ConceptImageVector(SQLModel, table=True):
    """The image embedding of an image concept (from the memory's image embedder)."""

    __tablename__ = "concept_image_vectors"

    concept_id: str = Field(primary_key=True, foreign_key="concepts.id", max_length=32)
    user_id: str = Field(index=True, max_length=200)
    model: str = Field(max_length=100)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class PersonaMember(SQLModel, table=True):
    """A user's membership of a persona (a group whose memories serve as fallback)."""

    __tablename__ = "persona_members"

    user_id: str = Field(primary_key=True, max_length=200)
    persona: str = Field(primary_key=True, max_length=100)


class Event(SQLModel, table=True):
    """A raw turn or interaction, stored before anything is derived from it."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_user_session_position", "user_id", "session_id", "position"),
        Index("ix_events_user_source", "user_id", "source_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(index=True, max_length=200)
    session_id: str = Field(default="default", max_length=200)
    role: str = Field(max_length=32)
    text: str
    extraction: str = Field(default="pending", max_length=16)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # set for observed conversation turns (``Memory.observe``, confidante.memory.ingest.episodes)
    speaker: str | None = Field(default=None, max_length=200)
    occurred_at: datetime | None = None
    source_id: str | None = Field(default=None, max_length=200)
    image_caption: str | None = None
    position: int | None = None  # order of the turn within its session


class AuditEntry(SQLModel, table=True):
    """One change to a user's memory, with the state it replaced."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(index=True, max_length=200)
    concept_id: str = Field(index=True, max_length=32)
    action: str = Field(max_length=16)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    at: datetime = Field(default_factory=utcnow)


class Summary(SQLModel, table=True):
    """An offline summary of one user for one task (``chat``, ``recommendation``...).

    ``watermark`` is the version of the user's data the summary was built from; the summary is
    stale when the user's current watermark differs.
    """

    __tablename__ = "summaries"
    __table_args__ = (UniqueConstraint("user_id", "task", name="uq_summaries_user_task"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(index=True, max_length=200)
    task: str = Field(max_length=32)
    text: str
    watermark: str = Field(max_length=200)
    model: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None  # the soonest expiry of the items it was built from


class ToolCall(SQLModel, table=True):
    """One side-effecting tool call of a turn, journaled around the call itself.

    ``status`` is ``started`` before the call and ``done`` (with ``result``) after it, each in
    its own committed transaction, so a call that completed is known even when the graph's
    checkpoint of it was lost (see :mod:`confidante.graphs.tool_journal`).
    """

    __tablename__ = "tool_calls"

    key: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(index=True, max_length=200)
    tool: str = Field(max_length=200)
    status: str = Field(default="started", max_length=16)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)


def concept_snapshot(concept: Concept) -> dict[str, Any]:
    """Return the JSON-safe state of a concept, for the audit log and history."""
    return (
        {
            "text": concept.text,
            "key": concept.key,
            "kind": concept.kind,
            "attributes": dict(concept.attributes or {}),
            "importance": concept.importance,
            "valid_from": concept.valid_from.isoformat(),
            "valid_to": concept.valid_to.isoformat() if concept.valid_to else None,
        }
        | ({"subject_id": concept.subject_id} if concept.subject_id else {})
        | ({"expires_at": concept.expires_at.isoformat()} if concept.expires_at else {})
    )
