"""Subjects: the people, pets, places and organisations in a user's life, and their links.

A fact is *about* someone. A fact about the user has no subject (``subject_id`` is None); a
fact about the user's sister Ana points to Ana's :class:`~confidante.memory.storage.records.Subject`
row, which records her name and her relation to the user. Subjects are plain rows of the
user's, like memories: every read and write names the user, ``export``/``import`` carry them,
``forget_subject`` erases one with its facts, ``forget_user`` erases them all.

Links serve retrieval both ways: a message that names a subject ("Ana") or its relation ("my
sister") finds that subject's current facts (:meth:`SubjectDirectory.amentioned`), and
a subject's relation fact ("Ana is the user's sister.") answers "who is Ana?".

:class:`Mention` is how the write path refers to a subject before it has a row: a name and/or a
relation. :meth:`SubjectDirectory.aresolve` finds the user's matching subject, or creates it:
by name (or an earlier name), else by relation for a subject known only by its relation ("my
mother" first, "my mother Carla" later names her).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory.items import MemoryHit, _storable_id, check_user_id, readable, shown
from confidante.memory.storage.editing import MemoryEdits
from confidante.memory.storage.expiry import live
from confidante.memory.storage.records import Concept, Subject, utcnow
from confidante.memory.subjects.names import (
    PERSON_RELATIONS,
    PET_RELATIONS,
    Mention,
    clean_name,
    find_subject,
    is_relation_word,
    kind_of,
    mentioned_in,
    name_pattern,
    normalise_relation,
    same_name,
)

__all__ = [  # the names' rules live in subjects.names; importable from here too
    "PERSON_RELATIONS",
    "PET_RELATIONS",
    "Mention",
    "SubjectDirectory",
    "SubjectView",
    "clean_name",
    "find_subject",
    "is_relation_word",
    "kind_of",
    "mentioned_in",
    "name_pattern",
    "normalise_relation",
]


class SubjectView(BaseModel):
    """A subject as returned to callers."""

    id: str
    name: str | None = None
    relation: str | None = None
    kind: str = "person"
    aliases: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    @property
    def label(self) -> str:
        """How to refer to the subject in a prompt: "Ana (sister)", "the user's mother"."""
        if self.name and self.relation:
            return f"{self.name} (the user's {self.relation})"
        return self.name or f"the user's {self.relation or 'acquaintance'}"

    def names(self) -> list[str]:
        """The subject's name and earlier names."""
        return [name for name in [self.name, *self.aliases] if name]


def _view(subject: Subject) -> SubjectView:
    return SubjectView.model_validate(subject, from_attributes=True)


class SubjectDirectory(MemoryEdits):
    """The user's subjects and the facts linked to them (a part of ``Memory``)."""

    async def asubjects(self, user_id: str) -> list[SubjectView]:
        """Return the user's subjects, oldest first."""
        check_user_id(user_id)
        rows = await self.database.run(lambda session: _subjects_of(session, user_id), write=False)
        return [_view(row) for row in rows]

    async def aresolve(self, user_id: str, mentions: Sequence[Mention]) -> list[SubjectView]:
        """Find or create the user's subject of each mention; one transaction for all.

        A mention with neither a usable name nor a relation raises ``InvalidInputError``. A
        found subject known only by its relation takes the mention's name; one without a
        relation takes the mention's relation.
        """
        check_user_id(user_id)
        cleaned = [mention.cleaned() for mention in mentions]
        if any(not (m.name or m.relation) for m in cleaned):
            raise InvalidInputError("a subject needs a name or a relation to the user")

        def write(session: Session) -> list[SubjectView]:
            self._ensure_user(session, user_id)
            known = _subjects_of(session, user_id)
            resolved = []
            for mention in cleaned:
                subject = find_subject(known, mention)
                if subject is None:
                    subject = Subject(
                        user_id=user_id,
                        name=mention.name,
                        relation=mention.relation,
                        kind=mention.kind or "person",
                    )
                    known.append(subject)
                else:
                    subject.name = subject.name or mention.name
                    subject.relation = subject.relation or mention.relation
                    subject.updated_at = utcnow()
                session.add(subject)
                resolved.append(subject)
            session.flush()
            return [_view(subject) for subject in resolved]

        return await self.database.run(write)

    async def aupdate_subject(
        self,
        user_id: str,
        subject_id: str,
        *,
        name: str | None = None,
        relation: str | None = None,
    ) -> SubjectView:
        """Rename a subject (the old name becomes an alias) and/or change its relation."""
        check_user_id(user_id)
        new_name, new_relation = clean_name(name), normalise_relation(relation)
        if name is not None and new_name is None:
            raise InvalidInputError(f"{name!r} is not a usable name")

        def write(session: Session) -> SubjectView:
            self._ensure_user(session, user_id)
            subject = _owned_subject(session, user_id, subject_id)
            if new_name and not same_name(new_name, subject.name):
                old = [subject.name] if subject.name else []
                kept = [a for a in subject.aliases if not same_name(a, new_name)]
                subject.aliases = list(dict.fromkeys([*kept, *old]))
                subject.name = new_name
            if new_relation:
                subject.relation, subject.kind = new_relation, kind_of(new_relation)
            subject.updated_at = utcnow()
            session.add(subject)
            return _view(subject)

        return await self.database.run(write)

    async def amentioned(self, user_id: str, text: str) -> list[SubjectView]:
        """The user's subjects that ``text`` names or refers to by relation ("my sister")."""
        return mentioned_in(await self.asubjects(user_id), text)

    async def asubject_facts(
        self, user_id: str, subject_ids: Sequence[str], *, limit: int = 8
    ) -> list[MemoryHit]:
        """Current facts about the given subjects (at most ``limit`` each, newest first)."""
        check_user_id(user_id)
        wanted = [s for s in dict.fromkeys(subject_ids) if _storable_id(s)]
        if not wanted:
            return []

        def read(session: Session) -> list[MemoryHit]:
            rows = session.exec(
                select(Concept)
                .where(Concept.user_id == user_id, col(Concept.subject_id).in_(wanted))
                .where(col(Concept.valid_to).is_(None), live())
                .order_by(col(Concept.created_at).desc())
            ).all()
            taken: dict[str, int] = {}
            hits = []
            for row in readable(rows):
                count = taken.get(str(row.subject_id), 0)
                if count < limit:
                    taken[str(row.subject_id)] = count + 1
                    hits.append(MemoryHit.of(row))
            return hits

        return await self.database.run(read, write=False)

    async def aslot_values(
        self, user_id: str, keys: str | Iterable[str], subject_id: str | None = None
    ) -> list[MemoryHit]:
        """The current items of one or more slots for one subject (None: the user), newest first."""
        check_user_id(user_id)
        wanted = [keys] if isinstance(keys, str) else list(keys)

        def read(session: Session) -> list[MemoryHit]:
            query = select(Concept).where(
                Concept.user_id == user_id,
                col(Concept.key).in_(wanted),
                col(Concept.valid_to).is_(None),
                live(),
            )
            if subject_id is None:
                query = query.where(col(Concept.subject_id).is_(None))
            else:
                query = query.where(Concept.subject_id == subject_id)
            rows = session.exec(query.order_by(col(Concept.created_at).desc())).all()
            return [MemoryHit.of(row) for row in readable(rows)]

        return await self.database.run(read, write=False)

    async def ahad_slot(self, user_id: str, keys: Iterable[str]) -> bool:
        """Whether the user ever had a value in one of these slots (current or superseded)."""
        check_user_id(user_id)
        wanted = list(keys)
        if not wanted:
            return False

        def read(session: Session) -> bool:
            query = select(Concept.id).where(
                Concept.user_id == user_id,
                col(Concept.key).in_(wanted),
                col(Concept.subject_id).is_(None),
            )
            return session.exec(query.limit(1)).first() is not None

        return await self.database.run(read, write=False)

    async def aforget_subject(self, user_id: str, subject_id: str) -> int:
        """Forget a subject and every item about it (as :meth:`aforget`); returns the count."""
        check_user_id(user_id)

        def read(session: Session) -> list[str]:
            _owned_subject(session, user_id, subject_id)
            return list(
                session.exec(
                    select(Concept.id).where(
                        Concept.user_id == user_id, Concept.subject_id == subject_id
                    )
                ).all()
            )

        item_ids = await self.database.run(read, write=False)
        for item_id in item_ids:
            try:
                await self.aforget(user_id, item_id)
            except NotFoundError:  # forgotten meanwhile
                continue

        def delete_row(session: Session) -> None:
            self._ensure_user(session, user_id)
            session.delete(_owned_subject(session, user_id, subject_id))

        await self.database.run(delete_row)
        return len(item_ids)

    subjects = sync_twin(asubjects)
    resolve = sync_twin(aresolve)
    update_subject = sync_twin(aupdate_subject)
    mentioned = sync_twin(amentioned)
    subject_facts = sync_twin(asubject_facts)
    slot_values = sync_twin(aslot_values)
    forget_subject = sync_twin(aforget_subject)


def _subjects_of(session: Session, user_id: str) -> list[Subject]:
    return list(
        session.exec(
            select(Subject).where(Subject.user_id == user_id).order_by(col(Subject.created_at))
        ).all()
    )


def _owned_subject(session: Session, user_id: str, subject_id: str) -> Subject:
    subject = session.get(Subject, subject_id) if _storable_id(subject_id) else None
    if subject is None or subject.user_id != user_id:
        raise NotFoundError(f"no subject {shown(subject_id)} for this user")
    return subject
