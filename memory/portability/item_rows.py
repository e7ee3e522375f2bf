"""How an import writes a user's items: current ones through the write rules, history as is.

Both run inside the import's one transaction (see
:func:`~confidante.memory.portability.transfer.import_memory`, whose module docstring gives the
rules) and return, for each exported item id, the id the item has now.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import insert, literal, update
from sqlmodel import Session, col, delete, select

from confidante.memory.items import text_fingerprint
from confidante.memory.portability.format import ExportEntry, as_utc
from confidante.memory.scopes import scope_of
from confidante.memory.storage.records import AuditEntry, Concept, ConceptVector, concept_snapshot
from confidante.memory.storage.writes import next_vector_seq, write_items

__all__ = ["add_current", "add_history", "rename_item"]


def add_current(
    session: Session,
    user_id: str,
    current: list[tuple[ExportEntry, Any]],
    model: str,
    keep_ids: bool,
) -> dict[str, str]:
    """Write current items through the memory's write rules; restore their times (and ids)."""
    if not current:
        return {}
    existing = set(
        session.exec(
            select(Concept.id).where(Concept.user_id == user_id, col(Concept.valid_to).is_(None))
        ).all()
    )
    written = write_items(
        session,
        user_id,
        [entry.item for entry, _ in current],
        np.asarray([vector for _, vector in current]),
        model,
    )
    result: dict[str, str] = {}
    final: dict[str, str] = {}  # id written by write_items -> id it has now
    for (entry, _), new_id in zip(current, written, strict=True):
        if new_id in existing or new_id in final:  # merged into an item the user already had
            result[entry.id] = final.get(new_id, new_id)
            continue
        session.execute(
            update(Concept)
            .where(col(Concept.id) == new_id)
            .values(created_at=entry.created_at, valid_from=entry.valid_from)
        )
        final[new_id] = rename_item(session, new_id, entry.id) if keep_ids else new_id
        result[entry.id] = final[new_id]
    return result


def add_history(
    session: Session,
    user_id: str,
    history: list[tuple[ExportEntry, Any]],
    model: str,
    keep_ids: bool,
) -> dict[str, str]:
    """Insert superseded items as history rows (with their vectors and an audit entry)."""
    if not history:
        return {}
    rows = session.exec(
        select(Concept).where(Concept.user_id == user_id, col(Concept.valid_to).is_not(None))
    ).all()
    known = {(c.text_hash, c.key, c.subject_id, as_utc(c.valid_from)): c.id for c in rows}
    result: dict[str, str] = {}
    added: list[tuple[Concept, Any]] = []
    for entry, vector in history:
        item = entry.item
        fingerprint = text_fingerprint(item.text)
        same = known.get((fingerprint, item.key, item.subject_id, entry.valid_from))
        if same is not None:
            result[entry.id] = same
            continue
        concept = Concept(
            user_id=user_id,
            scope=scope_of(user_id),
            kind=item.kind,
            key=item.key,
            text=item.text,
            text_hash=fingerprint,
            attributes=item.attributes,
            provenance=item.provenance,
            importance=item.importance,
            valid_from=entry.valid_from,
            valid_to=entry.valid_to,
            created_at=entry.created_at,
            subject_id=item.subject_id,
            expires_at=item.expires_at,
        )
        if keep_ids:
            concept.id = entry.id
        known[(fingerprint, item.key, item.subject_id, entry.valid_from)] = concept.id
        result[entry.id] = concept.id
        added.append((concept, vector))
    if not added:
        return result
    session.add_all([concept for concept, _ in added])
    session.flush()
    first = next_vector_seq(session, user_id, len(added))
    for offset, (concept, vector) in enumerate(added):
        session.add(
            ConceptVector(
                concept_id=concept.id,
                user_id=user_id,
                model=model,
                seq=first + offset,
                vector=np.asarray(vector, dtype=np.float32).tobytes(),
            )
        )
        snapshot = concept_snapshot(concept)
        session.add(
            AuditEntry(user_id=user_id, concept_id=concept.id, action="import", after=snapshot)
        )
    return result


def rename_item(session: Session, old: str, new: str) -> str:
    """Give a row written in this transaction another id (its vector and audit follow it)."""
    table = Concept.__table__  # type: ignore[attr-defined]
    others = [column for column in table.columns if column.name != "id"]
    session.execute(
        insert(table).from_select(
            ["id", *(column.name for column in others)],
            select(literal(new), *others).where(table.c.id == old),
        )
    )
    session.execute(
        update(ConceptVector).where(col(ConceptVector.concept_id) == old).values(concept_id=new)
    )
    session.execute(
        update(AuditEntry).where(col(AuditEntry.concept_id) == old).values(concept_id=new)
    )
    session.execute(
        update(Concept).where(col(Concept.superseded_by) == old).values(superseded_by=new)
    )
    session.execute(delete(Concept).where(col(Concept.id) == old))
    return new
