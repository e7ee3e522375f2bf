"""What replaced a superseded fact: the current fact that ended it, with its turn's facts.

A question often asks in the words of the old value. "Where do I volunteer these days?" reaches
"The user volunteers at the lighthouse museum.", ended by the turn "I've stopped at the
lighthouse museum. I'm doing Saturday mornings at the food bank now instead." whose facts do
not say "volunteer". Following ``superseded_by`` to the current fact that ended the old one,
and taking the other current facts said in that same turn (they share its provenance), gives
the reply what is true now. Only the user's own, readable (unexpired) items are followed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import Session, col, select

from confidante.memory.items import readable
from confidante.memory.storage.expiry import live
from confidante.memory.storage.records import Concept

#: How many replacements are followed from one item (a chain of changes of one fact).
MAX_HOPS = 8
#: Facts of one turn are written within this time of each other.
SAME_TURN = timedelta(minutes=10)


def current_successor(session: Session, user_id: str, item_id: str) -> Concept | None:
    """The user's current item that (through a chain of replacements) ended ``item_id``."""
    concept = session.get(Concept, item_id)
    for _ in range(MAX_HOPS):
        if concept is None or concept.user_id != user_id:
            return None
        if concept.valid_to is None:
            return concept if readable([concept]) else None
        if not concept.superseded_by:
            return None
        concept = session.get(Concept, concept.superseded_by)
    return None


def successors(
    session: Session, user_id: str, item_ids: Sequence[str], limit: int
) -> list[Concept]:
    """The current facts that replaced the given superseded items, and their turn-mates.

    At most ``limit`` items, those that ended an item first; an item still current, or ended
    with nothing in its place (forgotten, or "we broke up"), adds nothing.
    """
    found: dict[str, Concept] = {}
    for item_id in item_ids:
        successor = current_successor(session, user_id, item_id)
        if successor is None or successor.id == item_id:
            continue
        found.setdefault(successor.id, successor)
        for mate in _same_turn(session, user_id, successor):
            found.setdefault(mate.id, mate)
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


def _same_turn(session: Session, user_id: str, concept: Concept) -> list[Concept]:
    """The user's other current facts said in the turn ``concept`` came from."""
    if not concept.provenance:
        return []
    turn = set(concept.provenance)
    rows = session.exec(
        select(Concept)
        .where(
            Concept.user_id == user_id,
            live(),
            col(Concept.valid_to).is_(None),
            Concept.kind == concept.kind,
            col(Concept.created_at) >= concept.created_at - SAME_TURN,
            col(Concept.created_at) <= concept.created_at + SAME_TURN,
        )
        .order_by(col(Concept.created_at), col(Concept.id))
    ).all()
    return [row for row in readable(rows) if row.id != concept.id and turn & set(row.provenance)]
