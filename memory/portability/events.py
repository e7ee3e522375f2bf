"""The raw events of a memory export (format version 2): turns and interactions.

An export lists every stored event of the user (chat turns, observed conversation turns,
recommendation interactions) under ``events``, oldest first::

    {"id": "1a2b...", "session_id": "default", "role": "user", "text": "I live in Lisbon.",
     "extraction": "done", "error": null, "created_at": "...", "occurred_at": null,
     "speaker": null, "source_id": null, "image_caption": null, "position": null}

Items name the events they came from in their ``provenance``; on import an event keeps its id
unless another event already has it, in which case it gets a fresh one and the imported items'
provenance follows. An event the target user already has (same id) is not added twice.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlmodel import Session, col, select

from confidante.memory.portability.format import EventEntry, iso
from confidante.memory.storage.records import Event, new_id

__all__ = ["add_events", "event_documents"]


def event_documents(session: Session, user_id: str) -> list[dict[str, Any]]:
    """Return every event of a user as export entries, oldest first."""
    events = session.exec(
        select(Event).where(Event.user_id == user_id).order_by(col(Event.created_at), col(Event.id))
    ).all()
    return [
        {
            "id": event.id,
            "session_id": event.session_id,
            "role": event.role,
            "text": event.text,
            "extraction": event.extraction,
            "error": event.error,
            "created_at": iso(event.created_at),
            "occurred_at": iso(event.occurred_at),
            "speaker": event.speaker,
            "source_id": event.source_id,
            "image_caption": event.image_caption,
            "position": event.position,
        }
        for event in events
    ]


def add_events(session: Session, user_id: str, entries: list[EventEntry]) -> dict[str, str]:
    """Add the events the user lacks; returns the new id of each event whose id had to change.

    An event id the user already has is skipped (the same event, imported before); an id held
    by another user's event is replaced by a fresh one (the caller renames provenance).
    """
    if not entries:
        return {}
    wanted = [entry.id for entry in entries]
    owners = dict(
        session.exec(select(Event.id, Event.user_id).where(col(Event.id).in_(wanted))).all()
    )
    renamed: dict[str, str] = {}
    for entry in entries:
        owner = owners.get(entry.id)
        if owner == user_id:
            continue
        fields = asdict(entry)
        if owner is not None:
            fields["id"] = renamed[entry.id] = new_id()
        session.add(Event(user_id=user_id, **fields))
    return renamed
