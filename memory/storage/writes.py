"""Writing items in batches: a few set-based statements per batch instead of several per item.

:func:`write_items` applies the memory's write rules to a batch of validated items inside the
caller's transaction (the caller holds the user's row lock):

- an item whose text equals the user's current item (same slot, or no slot and same text) only
  adds its provenance to it;
- an item with a slot supersedes the current item of that slot for the same subject
  (``valid_to`` set, history kept) — also an item written earlier in the same batch — unless
  the slot is multi-valued (:mod:`confidante.memory.slots`), whose values accumulate;
- an item that lists ``replaces`` supersedes those current items of the user;
- an item of a mergeable kind that states the same fact as a current item of the same subject
  in other words (:mod:`confidante.memory.storage.near_duplicates`) merges into it: provenance
  joined, the higher importance kept, a ``merge`` audit entry recording the other wording;
- every new item gets its vector, numbered by the user's vector sequence, and an audit entry;
- an item that meets one saying the same (same text, or a near-duplicate) gives it the later of
  their two expiries, "never" beating any moment
  (:func:`~confidante.memory.storage.expiry.later_expiry`); expired items count as absent.

An item that will only add its provenance to an identical current item needs no vector:
:func:`already_stored` finds those before the batch is embedded, so storing a text again (a
query searched again, a file ingested twice) costs a read, not an embedding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from confidante.errors import NotFoundError
from confidante.memory.embeddings.text import Embedder, Vectors, embed_distinct
from confidante.memory.index.base import VectorIndex
from confidante.memory.items import MemoryItem, shown, text_fingerprint
from confidante.memory.scopes import scope_of
from confidante.memory.storage.expiry import has_expired, later_expiry, live
from confidante.memory.storage.near_duplicates import MERGEABLE_KINDS, nearest_each, same_fact
from confidante.memory.storage.records import (
    AuditEntry,
    Concept,
    Subject,
    UserRecord,
    concept_snapshot,
    new_id,
    utcnow,
)
from confidante.memory.storage.vector_rows import flag_large_user, insert_vectors


@dataclass(frozen=True)
class NearDuplicates:
    """How a write finds near-duplicates: the vector index and the cosine threshold."""

    index: VectorIndex
    threshold: float


def next_vector_seq(session: Session, user_id: str, count: int) -> int:
    """Reserve ``count`` vector sequence numbers for a user; returns the first one."""
    last = session.execute(
        update(UserRecord)
        .where(col(UserRecord.id) == user_id)
        .values(vector_seq=func.coalesce(UserRecord.vector_seq, 0) + count)
        .returning(col(UserRecord.vector_seq))
    ).scalar_one()
    flag_large_user(session, user_id, int(last) - count, int(last))
    return int(last) - count + 1


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    valid_to: datetime | None = row["valid_to"]
    return (
        {
            "text": row["text"],
            "key": row["key"],
            "kind": row["kind"],
            "attributes": dict(row["attributes"]),
            "importance": row["importance"],
            "valid_from": row["valid_from"].isoformat(),
            "valid_to": valid_to.isoformat() if valid_to else None,
        }
        | ({"subject_id": row["subject_id"]} if row.get("subject_id") else {})
        | ({"expires_at": row["expires_at"].isoformat()} if row.get("expires_at") else {})
    )


SlotKey = tuple[str | None, str]  # (subject id, slot)


def _current_items(
    session: Session,
    user_id: str,
    items: Sequence[MemoryItem],
    fingerprints: list[str],
    multi: frozenset[str],
) -> tuple[dict[SlotKey, Concept], dict[tuple[str | None, str], Concept]]:
    slots = sorted({item.key for item in items if item.key and item.key not in multi})
    free = sorted(
        {fp for item, fp in zip(items, fingerprints, strict=True) if not _single_slot(item, multi)}
    )
    current = select(Concept).where(
        Concept.user_id == user_id, col(Concept.valid_to).is_(None), live()
    )
    by_slot: dict[SlotKey, Concept] = {}
    by_text: dict[tuple[str | None, str], Concept] = {}
    if slots:
        for concept in session.exec(current.where(col(Concept.key).in_(slots))):
            by_slot[(concept.subject_id, str(concept.key))] = concept
    if free:
        query = current.where(col(Concept.text_hash).in_(free)).order_by(
            col(Concept.created_at), col(Concept.id)
        )
        for concept in session.exec(query):  # two items may say the same (one was edited):
            if concept.key is None or concept.key in multi:  # the oldest is the one merged into
                by_text.setdefault((concept.subject_id, str(concept.text_hash)), concept)
    return by_slot, by_text


def _single_slot(item: MemoryItem, multi: frozenset[str]) -> bool:
    """Whether the item sets a single-valued slot (it supersedes by slot, not by text)."""
    return bool(item.key) and item.key not in multi


def already_stored(
    session: Session, user_id: str, items: Sequence[MemoryItem], multi: frozenset[str]
) -> frozenset[int]:
    """Positions of items whose text is a current item of the user, so they need no vector.

    Only items without a single-valued slot count: they merge into the stored item of the same
    subject and text (an item with such a slot may supersede one written earlier in its batch).
    """
    fingerprints = [text_fingerprint(item.text) for item in items]
    _, by_text = _current_items(session, user_id, items, fingerprints, multi)
    return frozenset(
        position
        for position, (item, fingerprint) in enumerate(zip(items, fingerprints, strict=True))
        if not _single_slot(item, multi) and (item.subject_id, fingerprint) in by_text
    )


def vectors_for(embedder: Embedder, items: Sequence[MemoryItem], skip: frozenset[int]) -> Vectors:
    """Embed the items, except those at ``skip`` positions (zeros), each distinct text once."""
    vectors = np.zeros((len(items), embedder.dim), dtype=np.float32)
    todo = [position for position in range(len(items)) if position not in skip]
    if todo:
        vectors[todo] = embed_distinct(embedder, [items[position].text for position in todo])
    return vectors


def _check_subjects(session: Session, user_id: str, items: Sequence[MemoryItem]) -> None:
    """Raise ``NotFoundError`` unless every subject the items name is one of the user's."""
    wanted = {item.subject_id for item in items if item.subject_id}
    if not wanted:
        return
    found = set(
        session.exec(
            select(Subject.id).where(Subject.user_id == user_id, col(Subject.id).in_(wanted))
        ).all()
    )
    if missing := wanted - found:
        raise NotFoundError(f"no subject {shown(sorted(missing)[0])} for this user")


def _supersede_listed(
    session: Session, user_id: str, ids: Sequence[str], successor: str, now: datetime
) -> list[dict[str, Any]]:
    """Supersede the user's current items among ``ids`` by ``successor``; returns audits."""
    if not ids:
        return []
    rows = session.exec(
        select(Concept).where(
            Concept.user_id == user_id,
            col(Concept.id).in_(list(ids)),
            col(Concept.valid_to).is_(None),
        )
    ).all()
    audits = []
    for stored in rows:
        before = concept_snapshot(stored)
        stored.valid_to, stored.superseded_by = now, successor
        session.add(stored)
        audits.append(_audit(user_id, stored.id, "supersede", before, concept_snapshot(stored)))
    return audits


def _near_matches(
    session: Session,
    user_id: str,
    items: Sequence[MemoryItem],
    vectors: np.ndarray[Any, Any],
    near: NearDuplicates | None,
    unembedded: frozenset[int] = frozenset(),
) -> list[Concept | None]:
    """For each item, the current item of the user it would merge into, if any.

    Items at ``unembedded`` positions have no vector (they match a stored text exactly).
    """
    found: list[Concept | None] = [None] * len(items)
    positions = [
        i
        for i, item in enumerate(items)
        if not item.key and item.kind in MERGEABLE_KINDS and i not in unembedded
    ]
    if near is None or not positions:
        return found
    stacked = np.asarray(vectors, dtype=np.float32)[positions]
    nearest = nearest_each(near.index, session, user_id, stacked)
    for position, hit in zip(positions, nearest, strict=True):
        if hit is None or hit[1] < near.threshold:
            continue
        concept = session.get(Concept, hit[0])
        item = items[position]
        if (
            concept is not None
            and concept.user_id == user_id
            and concept.valid_to is None
            and not has_expired(concept.expires_at)
            and concept.kind == item.kind
            and concept.subject_id == item.subject_id
            and same_fact(item.text, concept.text, hit[1], near.threshold)
        ):
            found[position] = concept
    return found


def _merge_into(stored: Concept, item: MemoryItem, now: datetime) -> dict[str, Any]:
    """Fold a near-duplicate item into a stored one; returns the audit entry."""
    before = concept_snapshot(stored)
    stored.provenance = sorted({*stored.provenance, *item.provenance})
    stored.importance = max(stored.importance, item.importance)
    stored.expires_at = later_expiry(stored.expires_at, item.expires_at)
    stored.updated_at = now
    after = {**concept_snapshot(stored), "merged_text": item.text}
    return _audit(stored.user_id, stored.id, "merge", before, after)


def write_items(
    session: Session,
    user_id: str,
    items: Sequence[MemoryItem],
    vectors: np.ndarray[Any, Any],
    model: str,
    near: NearDuplicates | None = None,
    multi: frozenset[str] = frozenset(),
    unembedded: frozenset[int] = frozenset(),
    embed: Callable[[Sequence[str]], np.ndarray[Any, Any]] | None = None,
) -> list[str]:
    """Write a batch of validated items for one user; returns their ids in order.

    Args:
        session: The open write transaction (holding the user's row lock).
        user_id: The owner.
        items: Validated items.
        vectors: Their embeddings, one row per item.
        model: The embedder's name, stored with each vector.
        near: How to find near-duplicates; None writes without merging them.
        multi: Slots whose values accumulate instead of superseding each other.
        unembedded: Positions whose rows of ``vectors`` were not computed, because
            :func:`already_stored` found their text stored. Should one of them no longer be
            (deleted since), ``embed`` is called for it inside this transaction.
        embed: Embeds texts (required with ``unembedded``).

    Raises:
        NotFoundError: An item names a subject that is not the user's.
    """
    _check_subjects(session, user_id, items)
    fingerprints = [text_fingerprint(item.text) for item in items]
    by_slot, by_text = _current_items(session, user_id, items, fingerprints, multi)
    stale = sorted(
        position
        for position in unembedded
        if _single_slot(items[position], multi)
        or (items[position].subject_id, fingerprints[position]) not in by_text
    )
    if stale:
        if embed is None:
            raise ValueError("write_items needs embed= for items without a vector")
        vectors = np.array(vectors, dtype=np.float32)
        vectors[stale] = embed([items[position].text for position in stale])
    skipped = unembedded.difference(stale)
    similar = _near_matches(session, user_id, items, vectors, near, skipped)
    pending: dict[str, dict[str, Any]] = {}  # new rows of this batch, by slot or fingerprint
    rows: list[dict[str, Any]] = []
    row_vectors: list[Any] = []
    audits: list[dict[str, Any]] = []
    ids: list[str] = []
    now = utcnow()
    for item, fingerprint, vector, twin in zip(items, fingerprints, vectors, similar, strict=True):
        single = _single_slot(item, multi)
        lookup = (
            f"slot:{item.subject_id}:{item.key}"
            if single
            else f"text:{item.subject_id}:{fingerprint}"
        )
        stored = (
            by_slot.get((item.subject_id, str(item.key)))
            if single
            else by_text.get((item.subject_id, fingerprint))
        )
        fresh = pending.get(lookup)
        kept: str | None = None  # the id of an item this one is the same as
        if fresh is not None and fresh["text_hash"] == fingerprint:
            fresh["provenance"] = sorted({*fresh["provenance"], *item.provenance})
            fresh["expires_at"] = later_expiry(fresh["expires_at"], item.expires_at)
            kept = fresh["id"]
        elif fresh is None and stored is not None and stored.text_hash == fingerprint:
            stored.provenance = sorted({*stored.provenance, *item.provenance})
            stored.expires_at = later_expiry(stored.expires_at, item.expires_at)
            stored.updated_at = now
            session.add(stored)
            kept = stored.id
        elif fresh is None and stored is None and twin is not None and twin.id not in item.replaces:
            # (an item never merges into the one it replaces: "vegan" is near "vegetarian")
            audits.append(_merge_into(twin, item, now))
            session.add(twin)
            kept = twin.id
        if kept is not None:
            others = [replaced for replaced in item.replaces if replaced != kept]
            audits += _supersede_listed(session, user_id, others, kept, now)
            ids.append(kept)
            continue
        row_id = new_id()
        row: dict[str, Any] = {
            "id": row_id,
            "user_id": user_id,
            "scope": scope_of(user_id),
            "kind": item.kind,
            "key": item.key,
            "text": item.text,
            "text_hash": fingerprint,
            "attributes": item.attributes,
            "provenance": item.provenance,
            "importance": item.importance,
            "valid_from": item.valid_from or now,
            "valid_to": None,
            "superseded_by": None,
            # a microsecond apart: the batch's order is the order its items were written in
            "created_at": now + timedelta(microseconds=len(rows)),
            "updated_at": now,
            "subject_id": item.subject_id,
            "expires_at": item.expires_at,
        }
        audits += _supersede_listed(session, user_id, item.replaces, row_id, now)
        if fresh is not None:  # superseding an item written earlier in this batch
            before = _snapshot(fresh)
            fresh["valid_to"], fresh["superseded_by"] = now, row_id
            audits.append(_audit(user_id, fresh["id"], "supersede", before, _snapshot(fresh)))
        elif stored is not None and stored.valid_to is None:
            before = concept_snapshot(stored)
            stored.valid_to, stored.superseded_by = now, row_id
            session.add(stored)
            audits.append(_audit(user_id, stored.id, "supersede", before, concept_snapshot(stored)))
        pending[lookup] = row
        rows.append(row)
        row_vectors.append(vector)
        audits.append(_audit(user_id, row_id, "add", None, _snapshot(row)))
        ids.append(row_id)
    if rows:
        session.flush()
        session.execute(insert(Concept), rows)
        first = next_vector_seq(session, user_id, len(rows))
        insert_vectors(session, user_id, model, first, [row["id"] for row in rows], row_vectors)
    if audits:
        session.execute(insert(AuditEntry), audits)
    return ids


def _audit(
    user_id: str,
    concept_id: str,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "concept_id": concept_id,
        "action": action,
        "before": before,
        "after": after,
        "at": utcnow(),
    }
