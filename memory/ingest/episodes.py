"""Conversation ingestion ("observe"): raw turns in, retrievable turns and episodes out.

A chat observes each turn of a conversation: who spoke, when, in which session, and the turn's
own id (``source_id``). The turn is stored as an :class:`~confidante.memory.storage.records.Event`,
then items are derived from it for retrieval, each carrying in ``provenance`` the ``source_id`` of
every turn it came from (the event id for a turn without one):

- ``turn`` items: the turn alone, dated: ``[8 May 2023] Caroline: text [image: caption]``;
- ``episode`` items: the turn with the ``window - 1`` turns before it in the same session, one
  line each, dated once. Retrieval then finds a turn through its context (the question it
  answers, the name a pronoun stands for) and the caller reads a short exchange.

Derived items are only ever added, never rewritten, so the vector index only appends. A batch
of turns is embedded with one embedder call and written in one transaction. Observing a
``source_id`` the user already has is a no-op that returns the stored event's id. What is
derived is set by :class:`EpisodePolicy` (``Memory.episode_policy``); the default was chosen
with ``benchmarks/locomo.py`` (LoCoMo evidence recall at a tenth of the full history's tokens).
Storage (events, batches, concurrency) is in :mod:`confidante.memory.ingest.observe`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from confidante.errors import InvalidInputError
from confidante.memory.items import MAX_TEXT_CHARS, MemoryItem, check_label, check_text

TURN_KIND = "turn"
EPISODE_KIND = "episode"


@dataclass(frozen=True)
class EpisodePolicy:
    """What observing a turn derives from it.

    Attributes:
        turns: Store each turn as a ``turn`` item.
        window: Turns per ``episode`` item: the observed turn and the ones before it in its
            session (fewer at the start of a session, and never just one turn when ``turns``
            already stores it); 0 derives no episodes.
        stride: An episode ends at every ``stride``-th turn of a session (1: at every turn).
            With a stride above 1, the last turns of a session are in no episode until enough
            turns follow, so combine it with ``turns=True``.
    """

    turns: bool = False
    window: int = 3
    stride: int = 1

    def __post_init__(self) -> None:
        if self.window < 0 or self.stride < 1:
            raise InvalidInputError("window must be >= 0 and stride >= 1")
        if not self.turns and self.window == 0:
            raise InvalidInputError("an episode policy must derive turns, episodes or both")

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of the items derived under this policy."""
        return (TURN_KIND,) * self.turns + (EPISODE_KIND,) * (self.window > 0)


DEFAULT_POLICY = EpisodePolicy()


class ObservedTurn(BaseModel):
    """One turn of a conversation, as a chat observes it.

    Attributes:
        text: What was said.
        speaker: Who said it (a display name).
        session_id: The conversation session; episodes never span two sessions.
        occurred_at: When it was said (items show its day); naive times are taken as UTC.
        source_id: The turn's id in the caller's system, used as provenance.
        image_caption: A caption of an image shared with the turn.
        role: The speaker's role (``user``, ``assistant``...).
    """

    text: str
    speaker: str
    session_id: str = "default"
    occurred_at: datetime | None = None
    source_id: str | None = None
    image_caption: str | None = None
    role: str = "user"

    def checked(self) -> ObservedTurn:
        """Return the turn validated and stripped, or raise ``InvalidInputError``.

        A naive ``occurred_at`` is taken as UTC (the database stores aware times).
        """
        caption = (self.image_caption or "").strip()
        moment = self.occurred_at
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return self.model_copy(
            update={
                "occurred_at": moment,
                "text": check_text(self.text, "message"),
                "speaker": check_label(check_text(self.speaker, "speaker"), "speaker", 200),
                "session_id": check_label(self.session_id, "session_id", 200),
                "source_id": None
                if self.source_id is None
                else check_label(self.source_id, "source_id", 200),
                "image_caption": check_text(caption, "image_caption") if caption else None,
                "role": check_label(self.role, "role", 32),
            }
        )


def as_turn(value: ObservedTurn | Mapping[str, Any]) -> ObservedTurn:
    """Return a validated turn from a turn or a mapping of its fields (``InvalidInputError``)."""
    try:
        turn = value if isinstance(value, ObservedTurn) else ObservedTurn.model_validate(value)
    except ValidationError as exc:
        raise InvalidInputError(f"invalid turn: {exc}") from exc
    return turn.checked()


def day(moment: datetime) -> str:
    """Format a date as items show it: ``8 May 2023``."""
    return f"{moment.day} {moment:%B %Y}"


def turn_line(turn: ObservedTurn) -> str:
    """Return ``"Speaker: text [image: caption]"``."""
    caption = f" [image: {turn.image_caption}]" if turn.image_caption else ""
    return f"{turn.speaker}: {turn.text}{caption}"


def render_turn(turn: ObservedTurn) -> str:
    """Return the text of a ``turn`` item: the turn's line, prefixed by its day if known."""
    prefix = f"[{day(turn.occurred_at)}] " if turn.occurred_at else ""
    return (prefix + turn_line(turn))[:MAX_TEXT_CHARS]


def render_episode(turns: Sequence[ObservedTurn]) -> str:
    """Return the text of an ``episode`` item: one line per turn, each new day shown once.

    The oldest lines are dropped if the text would exceed the memory's text limit.
    """
    lines: list[str] = []
    shown: str | None = None
    for turn in turns:
        when = day(turn.occurred_at) if turn.occurred_at else None
        lines.append(f"[{when}] {turn_line(turn)}" if when and when != shown else turn_line(turn))
        shown = when or shown
    while len(lines) > 1 and sum(len(line) + 1 for line in lines) > MAX_TEXT_CHARS:
        lines.pop(0)
    return "\n".join(lines)[:MAX_TEXT_CHARS]


@dataclass
class StoredTurn:
    """An observed turn with its event id and its position in its session."""

    turn: ObservedTurn
    event_id: str
    position: int

    @property
    def provenance(self) -> str:
        """The id items cite for this turn: its ``source_id``, else its event id."""
        return self.turn.source_id or self.event_id


def derive_items(
    stored: StoredTurn, context: Sequence[StoredTurn], policy: EpisodePolicy
) -> list[MemoryItem]:
    """Return the items derived from one new turn.

    Args:
        stored: The new turn.
        context: The turns before it in its session, oldest first (at least the last
            ``policy.window - 1`` of them).
        policy: What to derive.
    """
    turn = stored.turn
    items: list[MemoryItem] = []
    if policy.turns:
        attributes: dict[str, Any] = {
            "session_id": turn.session_id,
            "occurred_at": turn.occurred_at.isoformat() if turn.occurred_at else None,
            "speaker": turn.speaker,
            "event_id": stored.event_id,
            "position": stored.position,
        }
        text, provenance = render_turn(turn), [stored.provenance]
        items.append(
            MemoryItem(
                text=text,
                kind=TURN_KIND,
                provenance=provenance,
                attributes=attributes,
                valid_from=turn.occurred_at,
            )
        )
    members = [*context, stored][-policy.window :] if policy.window else []
    said = len(members) == 1 and policy.turns  # a one-turn episode would repeat the turn item
    if not members or said or (stored.position + 1) % policy.stride:
        return items
    first = next((m.turn.occurred_at for m in members if m.turn.occurred_at), None)
    attributes = {
        "session_id": turn.session_id,
        "occurred_at": first.isoformat() if first else None,
        "event_ids": [m.event_id for m in members],
        "positions": [members[0].position, stored.position],
    }
    text = render_episode([m.turn for m in members])
    provenance = list(dict.fromkeys(m.provenance for m in members))
    items.append(
        MemoryItem(
            text=text,
            kind=EPISODE_KIND,
            provenance=provenance,
            attributes=attributes,
            valid_from=turn.occurred_at,
        )
    )
    return items
