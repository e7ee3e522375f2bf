"""The LangGraph store's reads over many items: ``search`` and ``list_namespaces``.

``search`` ranks with the memory's retrieval (or lists newest first without a query); both are
those of :class:`~confidante.integrations.langgraph_store.ConfidanteStore`.

:class:`StoreReads` is a mixin: the store provides ``memory``, ``kind``, ``_users`` (the users a
prefix spans) and ``_refresh`` (a read's TTL refresh), as it provides ``_sweep`` to
:class:`~confidante.integrations._sweeper.TTLSweeper`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from langgraph.store.base import Item, ListNamespacesOp, SearchItem, SearchOp

from confidante.integrations._store_values import (
    ATTRIBUTE,
    item_expired,
    matches_condition,
    matches_filter,
)
from confidante.memory.items import MemoryHit
from confidante.memory.store import Memory

__all__ = ["StoreReads", "item_of"]


class StoreReads:
    """Adds ``_search`` and ``_list_namespaces`` to a store (see the module docstring)."""

    memory: Memory
    kind: str

    async def _users(self, prefix: tuple[str, ...]) -> list[str]:
        """Return the users a search or listing spans (implemented by the store)."""
        raise NotImplementedError

    async def _refresh(self, user: str, hit: MemoryHit) -> MemoryHit | None:
        """Move an item's TTL deadline on a read (implemented by the store)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- search
    def _visible(self, hit: MemoryHit, op: SearchOp, now: datetime) -> bool:
        record = hit.attributes.get(ATTRIBUTE)
        if not isinstance(record, dict) or item_expired(hit, now):
            return False
        prefix = op.namespace_prefix
        if tuple(record["namespace"][: len(prefix)]) != prefix:
            return False
        if op.query and not record.get("indexed", True):
            return False
        return matches_filter(record["value"], op.filter)

    async def _search_user(self, user: str, op: SearchOp, want: int) -> list[MemoryHit]:
        now = datetime.now(UTC)
        if not op.query:
            hits = await self.memory.alist_items(user, kinds=[self.kind])
            visible = [hit for hit in hits if self._visible(hit, op, now)]
            visible.sort(key=lambda hit: hit.attributes[ATTRIBUTE]["updated_at"], reverse=True)
            return visible
        k = max(2 * want, 20)
        while True:
            hits = await self.memory.aretrieve(user, op.query, k, kinds=[self.kind], fallback=False)
            visible = [hit for hit in hits if self._visible(hit, op, now)]
            if len(visible) >= want or len(hits) < k:
                return visible
            k *= 4

    async def _search(self, op: SearchOp) -> list[SearchItem]:
        if op.limit < 0 or op.offset < 0:
            raise ValueError("limit and offset must not be negative")
        want = op.offset + op.limit
        hits: list[tuple[str, MemoryHit]] = []
        for user in await self._users(op.namespace_prefix):
            hits += [(user, hit) for hit in await self._search_user(user, op, want)]
        if op.query:
            hits.sort(key=lambda pair: pair[1].score, reverse=True)
        else:
            hits.sort(key=lambda pair: pair[1].attributes[ATTRIBUTE]["updated_at"], reverse=True)
        page = hits[op.offset : want]
        results: list[SearchItem] = []
        for user, hit in page:
            fresh = await self._refresh(user, hit) if op.refresh_ttl else hit
            if fresh is None:  # expired since it was found
                continue
            item = item_of(fresh)
            score = hit.score if op.query else None
            results.append(
                SearchItem(
                    item.namespace, item.key, item.value, item.created_at, item.updated_at, score
                )
            )
        return results

    # ------------------------------------------------------------ namespaces
    async def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        prefix: tuple[str, ...] = ()
        for condition in op.match_conditions or ():
            if condition.match_type == "prefix" and "*" not in condition.path:
                prefix = tuple(condition.path)
        now = datetime.now(UTC)
        found: set[tuple[str, ...]] = set()
        for user in await self._users(prefix):
            for hit in await self.memory.alist_items(user, kinds=[self.kind]):
                record = hit.attributes.get(ATTRIBUTE)
                if not isinstance(record, dict) or item_expired(hit, now):
                    continue
                namespace = tuple(record["namespace"])
                if all(matches_condition(c, namespace) for c in op.match_conditions or ()):
                    found.add(namespace[: op.max_depth] if op.max_depth else namespace)
        return sorted(found)[op.offset : op.offset + op.limit]


def item_of(hit: MemoryHit) -> Item:
    """Return the LangGraph item a memory item of the store holds."""
    record = hit.attributes[ATTRIBUTE]
    return Item(
        value=dict(record["value"]),
        key=str(record["key"]),
        namespace=tuple(record["namespace"]),
        created_at=datetime.fromisoformat(record["created_at"]),
        updated_at=datetime.fromisoformat(record["updated_at"]),
    )
