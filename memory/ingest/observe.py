"""Storage side of conversation ingestion: events, derived items, batches, concurrency.

:func:`observe_turns` implements ``Memory.aobserve_many`` (see
:mod:`confidante.memory.ingest.episodes` for what is derived). Per batch: read each session's last
turns and the already-known ``source_id``s, plan the new events and items, embed the items' texts
with one embedder call, then write events and items in one transaction holding the user's row lock.
If another writer added turns to one of the batch's sessions meanwhile, the batch is planned again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from confidante._sync import sync_twin
from confidante.errors import ConfidanteError, InvalidInputError
from confidante.memory._core import MemoryCore
from confidante.memory.ingest.episodes import (
    DEFAULT_POLICY,
    EpisodePolicy,
    ObservedTurn,
    StoredTurn,
    as_turn,
    derive_items,
)
from confidante.memory.items import MemoryItem, check_user_id
from confidante.memory.storage.records import Event, new_id
from confidante.memory.storage.writes import write_items

_ATTEMPTS = 3


@dataclass
class _State:
    """What a batch needs from the database: known sources and each session's last turns."""

    known: dict[str, str]
    next_position: dict[str, int]
    context: dict[str, list[StoredTurn]]


@dataclass
class _Plan:
    """A batch ready to write: the event ids to return, new events and derived items."""

    ids: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    items: list[MemoryItem] = field(default_factory=list)


class _SessionMoved(ConfidanteError):
    """Another writer added turns to a session of the batch since it was planned."""


def _last_positions(session: Session, user_id: str, sessions: Sequence[str]) -> dict[str, int]:
    rows = session.exec(
        select(Event.session_id, func.max(Event.position))
        .where(Event.user_id == user_id, col(Event.session_id).in_(list(sessions)))
        .group_by(col(Event.session_id))
    ).all()
    return {str(sid): int(last) for sid, last in rows if last is not None}


def _read_state(
    session: Session, user_id: str, batch: Sequence[ObservedTurn], window: int
) -> _State:
    sources = sorted({t.source_id for t in batch if t.source_id})
    known: dict[str, str] = {}
    if sources:
        rows = session.exec(
            select(Event.source_id, Event.id).where(
                Event.user_id == user_id, col(Event.source_id).in_(sources)
            )
        ).all()
        known = {str(source): event_id for source, event_id in rows}
    sessions = list(dict.fromkeys(t.session_id for t in batch))
    last = _last_positions(session, user_id, sessions)
    context: dict[str, list[StoredTurn]] = {}
    for sid in sessions if window > 1 else ():
        events = session.exec(
            select(Event)
            .where(Event.user_id == user_id, Event.session_id == sid)
            .where(col(Event.position).is_not(None))
            .order_by(col(Event.position).desc())
            .limit(window - 1)
        ).all()
        context[sid] = [_stored(event) for event in reversed(events)]
    context = {sid: context.get(sid, []) for sid in sessions}
    return _State(known, {sid: last.get(sid, -1) + 1 for sid in sessions}, context)


def _stored(event: Event) -> StoredTurn:
    turn = ObservedTurn(
        text=event.text,
        speaker=event.speaker or event.role,
        session_id=event.session_id,
        occurred_at=event.occurred_at,
        source_id=event.source_id,
        image_caption=event.image_caption,
        role=event.role,
    )
    return StoredTurn(turn, event.id, int(event.position or 0))


def _plan(
    user_id: str, batch: Sequence[ObservedTurn], state: _State, policy: EpisodePolicy
) -> _Plan:
    plan = _Plan()
    known = dict(state.known)
    positions = dict(state.next_position)
    context = {sid: list(turns) for sid, turns in state.context.items()}
    for turn in batch:
        if turn.source_id and turn.source_id in known:
            plan.ids.append(known[turn.source_id])
            continue
        sid = turn.session_id
        stored = StoredTurn(turn, new_id(), positions[sid])
        positions[sid] += 1
        if turn.source_id:
            known[turn.source_id] = stored.event_id
        plan.ids.append(stored.event_id)
        fields = turn.model_dump()  # every field of a turn is a column of its event
        plan.events.append(
            Event(id=stored.event_id, user_id=user_id, position=stored.position, **fields)
        )
        plan.items += [item.checked() for item in derive_items(stored, context[sid], policy)]
        keep = policy.window - 1
        context[sid] = [*context[sid], stored][-keep:] if keep > 0 else []
    return plan


async def observe_turns(
    memory: TurnObserver,
    user_id: str,
    turns: Sequence[ObservedTurn | Mapping[str, Any]],
    batch_size: int = 64,
) -> list[str]:
    """Store turns and derive their items under ``memory.episode_policy``; see the module doc.

    Args:
        memory: The memory to write to.
        user_id: The owner (already validated).
        turns: The turns (or mappings of their fields) in the order they were said; sessions
            may interleave. All are validated before anything is written.
        batch_size: Turns per embedder call and per transaction.

    Returns:
        The event ids, in the order of ``turns``.
    """
    if batch_size < 1:
        raise InvalidInputError("batch_size must be positive")
    checked = [_screened_turn(memory, as_turn(turn)) for turn in turns]
    ids: list[str] = []
    for start in range(0, len(checked), batch_size):
        ids += await _observe_batch(memory, user_id, checked[start : start + batch_size])
    return ids


def _screened_turn(memory: MemoryCore, turn: ObservedTurn) -> ObservedTurn:
    """The turn with its text and image caption under the memory's secret policy."""
    caption = turn.image_caption
    return turn.model_copy(
        update={
            "text": memory._screened(turn.text, "message"),
            "image_caption": memory._screened(caption, "image_caption") if caption else None,
        }
    )


async def _observe_batch(
    memory: TurnObserver, user_id: str, batch: list[ObservedTurn]
) -> list[str]:
    policy = memory.episode_policy
    for _ in range(_ATTEMPTS):
        state = await memory.database.run(
            lambda session: _read_state(session, user_id, batch, policy.window), write=False
        )
        plan = _plan(user_id, batch, state, policy)
        if not plan.events:
            return plan.ids
        texts = [item.text for item in plan.items]
        vectors = await memory._embed_documents(texts) if texts else None

        def write(
            session: Session, plan: _Plan = plan, vectors: Any = vectors, state: _State = state
        ) -> None:
            memory._ensure_user(session, user_id)
            expected = {sid: n - 1 for sid, n in state.next_position.items() if n > 0}
            if _last_positions(session, user_id, list(state.next_position)) != expected:
                raise _SessionMoved("a session changed while the batch was embedded")
            session.add_all(plan.events)
            session.flush()
            if plan.items and vectors is not None:
                write_items(session, user_id, plan.items, vectors, memory.embedder.name)

        try:
            await memory.database.run(write)
        except _SessionMoved:
            continue
        return plan.ids
    raise ConfidanteError("could not observe the turns: their sessions kept changing")


class TurnObserver(MemoryCore):
    """Conversation ingestion: store turns and derive their items (mixed into ``Memory``)."""

    #: What observing a turn derives (``turn`` and/or ``episode`` items); set per instance.
    episode_policy: EpisodePolicy = DEFAULT_POLICY

    async def aobserve(
        self,
        user_id: str,
        text: str,
        *,
        speaker: str,
        session_id: str = "default",
        occurred_at: datetime | None = None,
        source_id: str | None = None,
        image_caption: str | None = None,
        role: str = "user",
    ) -> str:
        """Store one conversation turn and derive its retrievable items; returns the event id.

        Under :attr:`episode_policy`, the turn becomes a dated ``turn`` item and/or an
        ``episode`` item (the turn with the ones before it in its session); every item's
        provenance lists the ``source_id`` of each turn it came from (the event id when the
        turn has none). Observing a ``source_id`` again returns the stored event's id.

        Args:
            user_id: The owner.
            text: What was said.
            speaker: Who said it.
            session_id: The conversation session (episodes never span two sessions).
            occurred_at: When it was said.
            source_id: The turn's id in the caller's system (e.g. a message id).
            image_caption: A caption of an image shared with the turn.
            role: The speaker's role (``user``, ``assistant``...).
        """
        turn = {
            "text": text,
            "speaker": speaker,
            "session_id": session_id,
            "occurred_at": occurred_at,
            "source_id": source_id,
            "image_caption": image_caption,
            "role": role,
        }
        (event_id,) = await self.aobserve_many(user_id, [turn])
        return event_id

    async def aobserve_many(
        self,
        user_id: str,
        turns: Sequence[ObservedTurn | dict[str, Any]],
        *,
        batch_size: int = 64,
    ) -> list[str]:
        """Observe turns in order (see :meth:`aobserve`): one embedder call per batch.

        Args:
            user_id: The owner.
            turns: :class:`~confidante.memory.ingest.episodes.ObservedTurn` values or dicts of their
                fields, in the order they were said. All are validated before any is written.
            batch_size: Turns per embedder call and per transaction.

        Returns:
            The event ids, in the order of ``turns``.
        """
        check_user_id(user_id)
        return await observe_turns(self, user_id, turns, batch_size)

    observe = sync_twin(aobserve)
    observe_many = sync_twin(aobserve_many)
