"""A LangGraph store backed by confidante's personal memory.

``graph.compile(store=ConfidanteStore(memory))`` gives any LangGraph app the memory's
remember/retrieve through LangGraph's own ``BaseStore`` API (``put``, ``get``, ``search``,
``delete``, ``list_namespaces``, ``batch`` and their ``a``-prefixed async versions).

Namespaces and users:
    Every namespace belongs to one user of the memory. By default the first label is the user
    id: ``("alice", "memories")`` is stored in Alice's memory, as in LangGraph's own examples
    (``namespace = (user_id, "memories")``). Pass ``user_of=user_at(1)`` for namespaces such as
    ``("memories", user_id)``, any callable from a namespace to a user id, or ``user_id="alice"``
    to put every namespace in one user's memory. An operation only ever reads and writes the
    memory of the user its namespace maps to, so one user's namespaces never show another
    user's items. A search or namespace listing whose prefix names no user (``()``) spans every
    user that has store items: it is for server code, never for a prefix taken from a model.
    LangGraph refuses namespace labels that contain a period, so a user id such as an email
    address cannot be a label: map a label to it with ``user_of`` (e.g. a lookup), or pin the
    store with ``user_id=``.

Items:
    An item is one memory item of its user, of kind ``langgraph`` (``kind=``), whose slot is
    derived from its namespace and key, whose text is the value's text (every string in it, or
    the ``fields`` paths, LangGraph-style) and whose attribute ``langgraph`` holds the
    namespace, key, value, times and TTL. So store items are part of the user's memory: the
    assistant recalls them, ``confidante memory list`` shows them, an export carries them.
    ``put`` on an existing key replaces its value (the memory's history keeps the previous
    one); ``delete`` forgets every version.

Search:
    ``search(prefix, query=...)`` ranks with the memory's retrieval (dense and full text,
    fused); without a query, items come newest first. ``filter`` matches value fields exactly
    or with ``$eq``, ``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``.

TTL (``supports_ttl``):
    ``put(..., ttl=minutes)`` (or ``ttl={"default_ttl": minutes}`` for every item) makes an item
    expire that long after its last write or read; reads refresh the deadline unless
    ``refresh_ttl=False`` (or ``ttl={"refresh_on_read": False}``). The deadline is the memory
    item's own ``expires_at`` (:mod:`confidante.memory.storage.expiry`), moved by each refresh:
    an expired item is never returned, neither by the store nor by the memory's own reads
    (retrieval, listings, the export), and the memory's sweep (``confidante sweep``) erases it.
    :meth:`ConfidanteStore.sweep_ttl` forgets the store's expired items (every version of
    their key), and :meth:`ConfidanteStore.start_ttl_sweeper` does so every few minutes
    (LangGraph's names).

Example:
    >>> store = ConfidanteStore(memory)  # doctest: +SKIP
    >>> graph = builder.compile(store=store)  # doctest: +SKIP
    >>> store.put(("alice", "memories"), "diet", {"text": "Alice is vegetarian."})  # doctest: +SKIP
    >>> store.search(("alice", "memories"), query="what does she eat?")  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

from langgraph.store.base import (
    BaseStore,
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchOp,
    TTLConfig,
    validate_op_namespace,
)
from sqlmodel import Session, col, select

from confidante._sync import run_sync, sync_twin
from confidante.errors import InvalidInputError, NotFoundError
from confidante.integrations._store_search import StoreReads, item_of
from confidante.integrations._store_values import (
    ATTRIBUTE,
    expiry_of,
    item_expired,
    slot_of,
    text_of,
)
from confidante.integrations._sweeper import TTLSweeper, expired_keys
from confidante.memory.items import MemoryHit, MemoryItem, check_user_id
from confidante.memory.storage.expiry import NEVER, live
from confidante.memory.storage.records import Concept
from confidante.memory.store import Memory

__all__ = ["ConfidanteStore", "UserOf", "user_at"]

#: Maps a namespace (or a search prefix) to its user id; None when it names no user.
UserOf = Callable[[tuple[str, ...]], str | None]


def user_at(position: int = 0) -> UserOf:
    """Return a mapper that reads the user id at ``position`` of the namespace."""

    def user_of(namespace: tuple[str, ...]) -> str | None:
        return namespace[position] if len(namespace) > position else None

    return user_of


class ConfidanteStore(TTLSweeper, StoreReads, BaseStore):
    """LangGraph's ``BaseStore`` over a confidante :class:`~confidante.memory.store.Memory`.

    Args:
        memory: The memory that holds the items.
        user_of: Maps a namespace to its user (default: the first label, ``user_at(0)``).
        user_id: Put every namespace in this user's memory instead (excludes ``user_of``).
        fields: JSON paths of the value to embed and match (default: every string in it).
        kind: The memory kind of store items.
        importance: The memory importance of store items (0..1).
        ttl: LangGraph TTL settings (``default_ttl`` minutes, ``refresh_on_read``).
    """

    supports_ttl = True

    def __init__(
        self,
        memory: Memory,
        *,
        user_of: UserOf | None = None,
        user_id: str | None = None,
        fields: Sequence[str] | None = None,
        kind: str = "langgraph",
        importance: float = 0.5,
        ttl: TTLConfig | None = None,
    ) -> None:
        if user_of is not None and user_id is not None:
            raise InvalidInputError("pass user_of or user_id, not both")
        self.memory = memory
        self.user_id = check_user_id(user_id) if user_id is not None else None
        self.user_of = user_of or user_at(0)
        self.fields = list(fields) if fields is not None else None
        self.kind = kind
        self.importance = importance
        self.ttl_config = ttl
        self._sweeper: threading.Thread | None = None  # see TTLSweeper
        self._stop_sweeping = threading.Event()

    # ------------------------------------------------------------------ batch
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run operations in order and return one result per operation."""
        return run_sync(self.abatch(list(ops)))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run operations in order and return one result per operation (async)."""
        results: list[Result] = []
        for op in ops:
            validate_op_namespace(op)  # as LangGraph's stores do: no empty or dotted labels
            if isinstance(op, GetOp):
                results.append(await self._get(op))
            elif isinstance(op, SearchOp):
                results.append(await self._search(op))
            elif isinstance(op, PutOp):
                await self._put(op)
                results.append(None)
            elif isinstance(op, ListNamespacesOp):
                results.append(await self._list_namespaces(op))
            else:
                raise ValueError(f"unknown store operation {op!r}")
        return results

    # ----------------------------------------------------------------- users
    def _owner(self, namespace: tuple[str, ...]) -> str:
        """Return the user who owns a namespace (for put, get and delete)."""
        if not namespace:
            raise InvalidNamespaceError("a namespace cannot be empty")
        if self.user_id is not None:
            return self.user_id
        user = self.user_of(namespace)
        if not user:
            raise InvalidNamespaceError(f"namespace {namespace!r} names no user")
        return check_user_id(user)

    async def _users(self, prefix: tuple[str, ...]) -> list[str]:
        """Return the users a search or listing spans (every store user for ``()``)."""
        if self.user_id is not None:
            return [self.user_id]
        user = self.user_of(prefix) if prefix else None
        if user:
            return [check_user_id(user)]

        def read(session: Session) -> list[str]:
            query = select(Concept.user_id).where(
                Concept.kind == self.kind, col(Concept.valid_to).is_(None)
            )
            return sorted(set(session.exec(query.distinct()).all()))

        return await self.memory.database.run(read, write=False)

    # ------------------------------------------------------------------- get
    async def _current(self, user: str, namespace: tuple[str, ...], key: str) -> MemoryHit | None:
        slot = slot_of(namespace, key)

        def read(session: Session) -> Concept | None:
            return session.exec(
                select(Concept).where(
                    Concept.user_id == user,
                    Concept.key == slot,
                    Concept.kind == self.kind,
                    col(Concept.valid_to).is_(None),
                    live(),
                )
            ).first()

        concept = await self.memory.database.run(read, write=False)
        if concept is None:
            return None
        hit = MemoryHit.of(concept)
        record = hit.attributes.get(ATTRIBUTE) or {}
        if tuple(record.get("namespace", ())) != namespace or record.get("key") != key:
            return None  # a hash collision, or an item edited by hand
        return hit

    async def _get(self, op: GetOp) -> Item | None:
        user = self._owner(op.namespace)
        hit = await self._current(user, op.namespace, op.key)
        if hit is None or item_expired(hit, datetime.now(UTC)):
            return None
        fresh = await self._refresh(user, hit) if op.refresh_ttl else hit
        return None if fresh is None else item_of(fresh)

    async def _refresh(self, user: str, hit: MemoryHit) -> MemoryHit | None:
        """Move an item's deadline to its TTL from now (None: it expired or went meanwhile)."""
        record = dict(hit.attributes[ATTRIBUTE])
        if record.get("ttl") is None:
            return hit
        deadline = expiry_of(record["ttl"], datetime.now(UTC))
        record["expires_at"] = None if deadline is None else deadline.isoformat()
        try:
            return await self.memory.aupdate(
                user, hit.id, attributes={ATTRIBUTE: record}, expires_at=deadline
            )
        except NotFoundError:
            return None

    # ------------------------------------------------------------------- put
    async def _put(self, op: PutOp) -> None:
        user = self._owner(op.namespace)
        current = await self._current(user, op.namespace, op.key)
        if op.value is None:
            await self._delete(user, op.namespace, op.key)
            return
        now = datetime.now(UTC)
        fields = self.fields if op.index is None or op.index is False else list(op.index)
        text = text_of(op.value, fields)
        previous = current.attributes[ATTRIBUTE] if current is not None else None
        deadline = expiry_of(op.ttl, now)
        record = {
            "namespace": list(op.namespace),
            "key": op.key,
            "value": dict(op.value),
            "created_at": previous["created_at"] if previous else now.isoformat(),
            "updated_at": now.isoformat(),
            "ttl": op.ttl,
            "expires_at": None if deadline is None else deadline.isoformat(),
            "indexed": op.index is not False,
        }
        expiry: datetime | Literal["never"] = NEVER if deadline is None else deadline
        if current is not None and current.text == text.strip():
            try:
                await self.memory.aupdate(
                    user, current.id, attributes={ATTRIBUTE: record}, expires_at=expiry
                )
                return
            except NotFoundError:  # it expired (or was deleted) meanwhile: written anew
                current = None
        item = MemoryItem(
            text=text,
            key=slot_of(op.namespace, op.key),
            kind=self.kind,
            importance=self.importance,
            provenance=["langgraph:" + "/".join(op.namespace) + ":" + op.key],
            attributes={ATTRIBUTE: record},
            expires_at=deadline,
        )
        (item_id,) = await self.memory.aremember_many(user, [item])
        if current is not None and item_id == current.id:  # same text after normalisation
            await self.memory.aupdate(
                user, item_id, attributes={ATTRIBUTE: record}, expires_at=expiry
            )

    async def _delete(self, user: str, namespace: tuple[str, ...], key: str) -> None:
        slot = slot_of(namespace, key)

        def read(session: Session) -> list[str]:
            query = select(Concept.id).where(
                Concept.user_id == user, Concept.key == slot, Concept.kind == self.kind
            )
            return list(session.exec(query).all())

        for item_id in await self.memory.database.run(read, write=False):
            try:
                await self.memory.aforget(user, item_id)
            except NotFoundError:  # forgotten meanwhile
                continue

    # ------------------------------------------------------------------- TTL
    async def asweep_ttl(self) -> int:
        """Forget every expired store item (all users); returns how many were forgotten.

        Each expired current item of the store's kind (:func:`expired_keys`) has every
        version of its key forgotten.
        """
        now = datetime.now(UTC)
        users = await self._users(())

        expired = await self.memory.database.run(
            lambda session: expired_keys(session, users, self.kind, now), write=False
        )
        for user, namespace, key in expired:
            await self._delete(user, namespace, key)
        return len(expired)

    sweep_ttl = sync_twin(asweep_ttl)

    def _sweep(self) -> int:
        return self.sweep_ttl()
