"""The subjects of a memory export (format version 3): who or what the items are about.

An export lists every subject of the user (:mod:`confidante.memory.subjects.directory`) under
``subjects``, oldest first::

    {"id": "9c1d...", "name": "Ana", "relation": "sister", "kind": "person",
     "aliases": ["Anna"], "created_at": "2026-04-30T18:02:11.503211+00:00"}

and each item names the subject it is about in ``subject_id`` (null: the user). On import each
exported subject becomes one of the target user's subjects, in the items' transaction:

- the target user's subject with the same id (the same subject, imported or restored before);
- else one with the same name or alias (case-insensitive), or, when the exported subject is
  known by its relation only or no name matches, one known by that same relation only (no name)
  — the rules of :func:`~confidante.memory.subjects.directory.find_subject`; then one of the
  target's names matching an exported alias. A matched subject takes the exported name when it has
  none (its relation, when it has none), and the exported name and aliases it lacks as aliases;
- else a new subject of the target user, with the exported name, relation, kind, aliases and
  ``created_at``, and a fresh id (``keep_ids``: the exported id; one already in the database is
  refused).

Two subjects of one document never become the same target subject, so importing a document
twice adds no subject. Only the target user's subjects are read or changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from confidante.errors import InvalidInputError
from confidante.memory.portability.format import SubjectEntry, iso
from confidante.memory.storage.records import Subject, utcnow
from confidante.memory.subjects.directory import Mention, clean_name, find_subject

__all__ = ["add_subjects", "subject_documents"]


def subject_documents(session: Session, user_id: str) -> list[dict[str, Any]]:
    """Return every subject of a user as export entries, oldest first."""
    subjects = session.exec(
        select(Subject)
        .where(Subject.user_id == user_id)
        .order_by(col(Subject.created_at), col(Subject.id))
    ).all()
    return [
        {
            "id": subject.id,
            "name": subject.name,
            "relation": subject.relation,
            "kind": subject.kind,
            "aliases": list(subject.aliases or []),
            "created_at": iso(subject.created_at),
        }
        for subject in subjects
    ]


def add_subjects(
    session: Session, user_id: str, entries: Sequence[SubjectEntry], keep_ids: bool
) -> dict[str, str]:
    """Match or create the target user's subject of each entry; returns exported id -> id now.

    Raises:
        InvalidInputError: ``keep_ids`` and the id of a subject to create is already used.
    """
    if not entries:
        return {}
    known = list(
        session.exec(
            select(Subject)
            .where(Subject.user_id == user_id)
            .order_by(col(Subject.created_at), col(Subject.id))
        ).all()
    )
    now = utcnow()
    claimed: set[str] = set()
    mapping: dict[str, str] = {}
    created: list[Subject] = []
    for entry in entries:
        subject = _match([s for s in known if s.id not in claimed], entry)
        if subject is None:
            name, relation = _cleaned(entry)
            subject = Subject(
                user_id=user_id,
                name=name,
                relation=relation,
                kind=entry.kind,
                aliases=_new_aliases([name], [], entry.aliases),
                created_at=entry.created_at or now,
                updated_at=now,
            )
            if keep_ids:
                subject.id = entry.id
            created.append(subject)
            known.append(subject)
        else:
            _merge(subject, entry, now)
        claimed.add(subject.id)
        mapping[entry.id] = subject.id
    if keep_ids and created:
        wanted = [subject.id for subject in created]
        with session.no_autoflush:
            taken = session.exec(select(Subject.id).where(col(Subject.id).in_(wanted))).all()
        if taken:
            raise InvalidInputError(f"subject ids already in the database: {', '.join(taken[:5])}")
    session.add_all(created)
    session.flush()
    return mapping


def _cleaned(entry: SubjectEntry) -> tuple[str | None, str | None]:
    """The entry's name and relation as the memory stores them (as written if nothing is left)."""
    mention = Mention(name=entry.name, relation=entry.relation).cleaned()
    if mention.name or mention.relation:
        return mention.name, mention.relation
    return entry.name, entry.relation


def _match(free: Sequence[Subject], entry: SubjectEntry) -> Subject | None:
    """The target subject (among those no other entry took) that ``entry`` is, or None."""
    for subject in free:
        if subject.id == entry.id:
            return subject
    name, relation = _cleaned(entry)
    mention = Mention(name=name, relation=relation)
    if name:
        found = find_subject(free, mention)
    else:  # known by relation only: only a target subject known the same way
        found = find_subject([s for s in free if s.name is None], mention)
    for alias in entry.aliases:
        if found is not None:
            break
        alias_name = clean_name(alias)
        found = find_subject(free, Mention(name=alias_name)) if alias_name else None
    return found


def _same(a: str, b: str | None) -> bool:
    return b is not None and a.casefold() == b.casefold()


def _new_aliases(
    names: Sequence[str | None], aliases: Sequence[str], extra: Sequence[str | None]
) -> list[str]:
    """``aliases`` followed by the names of ``extra`` that are neither in ``names`` nor there."""
    result = list(aliases)
    for value in extra:
        if value and not any(_same(value, other) for other in [*names, *result]):
            result.append(value)
    return result


def _merge(subject: Subject, entry: SubjectEntry, now: datetime) -> None:
    """Complete a matched subject with what the exported one adds (name, relation, aliases)."""
    name, relation = _cleaned(entry)
    before = (subject.name, subject.relation, list(subject.aliases or []))
    if subject.name is None and name:
        subject.name = name
    if subject.relation is None and relation:
        subject.relation, subject.kind = relation, entry.kind
    aliases = _new_aliases([subject.name], subject.aliases or [], [name, *entry.aliases])
    if aliases != before[2]:
        subject.aliases = aliases
    if (subject.name, subject.relation, aliases) != before:
        subject.updated_at = now
