"""The personal memory: remember, retrieve and edit a user's concepts in real time.

:class:`Memory` has one async core (``aremember``, ``aretrieve``...) and sync twins with the
same names without the ``a`` (``remember``, ``retrieve``...). Every call names its user; an id
that belongs to another user is reported as not found, exactly like an id that does not exist.

A concept with a ``key`` (a stable slot such as ``home_city``) supersedes the user's current
concept with the same key: the old one keeps its row with ``valid_to`` set and is no longer
retrieved unless history is asked for. Re-remembering the same text returns the existing id.

Dense search goes through a :class:`~confidante.memory.index.base.VectorIndex`: unless one is
passed, PostgreSQL with pgvector installed in the database searches inside the database
(:class:`~confidante.memory.index.pgvector.PgVectorIndex`), any other database through the
in-process :class:`~confidante.memory.index.embedded.EmbeddedVectorIndex`
(see :func:`~confidante.memory.index.pgvector.default_vector_index`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory.embeddings.images import (
    ImageInput,
    build_image_embedder,
)
from confidante.memory.embeddings.text import Embedder, build_embedder
from confidante.memory.ingest.events import EventLog
from confidante.memory.ingest.observe import TurnObserver
from confidante.memory.items import (
    MemoryHit,
    MemoryItem,
    _storable_id,
    check_attributes,
    check_label,
    check_text,
    check_user_id,
    normalise_key,
    shown,
)
from confidante.memory.portability.part import PortableMemory
from confidante.memory.remembering import MemoryWrites
from confidante.memory.retrieval.candidates import Filters
from confidante.memory.retrieval.ranking import fuse_rankings
from confidante.memory.retrieval.successors import successors as successors_of
from confidante.memory.retrieval.text_search import TextSearch
from confidante.memory.storage.database import Database
from confidante.memory.storage.files import default_images_dir
from confidante.memory.storage.image_concepts import ImageConcepts
from confidante.memory.storage.records import (
    AuditEntry,
)
from confidante.memory.subjects.directory import SubjectDirectory
from confidante.memory.summaries.store import SummaryView, read_summary
from confidante.memory.sweep import MemorySweep
from confidante.settings import Settings

__all__ = [
    "Memory",
    "MemoryHit",
    "MemoryItem",
    "check_attributes",
    "check_label",
    "check_text",
    "check_user_id",
    "normalise_key",
]


class Memory(
    MemoryWrites,
    SubjectDirectory,
    ImageConcepts,
    TurnObserver,
    EventLog,
    TextSearch,
    PortableMemory,
    MemorySweep,
):
    """A personal memory over a database and an embedder (both injected).

    Takes the arguments of :class:`~confidante.memory._core.MemoryCore`.

    Example:
        >>> memory = Memory.open("/tmp/me.db")  # doctest: +SKIP
        >>> item = memory.remember("alice", "Alice's dog is called Biscuit.")  # doctest: +SKIP
        >>> memory.retrieve("alice", "dog name")[0].text  # doctest: +SKIP
    """

    @classmethod
    def open(
        cls,
        url_or_path: str | Path | None = None,
        *,
        embedder: Embedder | None = None,
        settings: Settings | None = None,
    ) -> Memory:
        """Open the memory at a database URL or SQLite path (default: from settings).

        The settings also give the embedders, the image folder and the ``secret_policy``.
        """
        settings = settings or Settings()
        target = url_or_path if url_or_path is not None else settings.resolved_database_url
        database = Database.open(target)
        return cls(
            database,
            embedder or build_embedder(settings),
            image_embedder=build_image_embedder(settings.image_embedder),
            images_dir=default_images_dir(database, settings.data_dir),
            secret_policy=settings.secret_policy,
        )

    # ------------------------------------------------------------------ reads
    async def aretrieve(
        self,
        user_id: str,
        query: str | None = None,
        k: int = 10,
        *,
        kinds: Sequence[str] | None = None,
        include_history: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        query_vector: np.ndarray[Any, np.dtype[np.float32]] | None = None,
        fallback: bool = True,
        image: ImageInput | None = None,
    ) -> list[MemoryHit]:
        """Return the user's ``k`` items most relevant to ``query``, best first.

        With an image embedder, the user's image concepts are also ranked by image similarity
        (to ``image``, or to ``query`` through the image model's text tower) and the two
        rankings fused.

        Args:
            user_id: Whose memory to search; no other user's item can be returned.
            query: The text to match (dense similarity and full-text words, fused).
            k: How many items.
            kinds: Only items of these kinds.
            include_history: Also superseded items.
            since: Only items valid from this time on.
            until: Only items valid from before this time.
            query_vector: The query's embedding, when the caller computed it already.
            fallback: When the user has fewer than ``k`` matching items, fill the list from
                the user's personas, then from the global scope (see
                :func:`~confidante.memory.scopes.persona_owner`).
            image: An image to match (needs an image embedder); ``query`` may then be None.
        """
        check_user_id(user_id)
        if k <= 0:
            raise InvalidInputError("k must be positive")
        if query is None and image is None:
            raise InvalidInputError("retrieve needs a query, an image or both")
        query = None if query is None else check_text(query, "query")
        filters = Filters(kinds, include_history, since, until)
        pictured = await self._image_hits(user_id, query, image, k, filters)
        if query is None:
            return pictured
        said = await self._text_hits(user_id, query, k, filters, query_vector, fallback)
        if not pictured:
            return said
        hits = {hit.id: hit for hit in [*pictured, *said]}
        fused = fuse_rankings([[h.id for h in said], [h.id for h in pictured]], k)
        return [hits[item].model_copy(update={"score": score}) for item, score in fused]

    async def aretrieve_many(
        self,
        user_id: str,
        queries: Sequence[str],
        k: int = 10,
        *,
        kinds: Sequence[str] | None = None,
        include_history: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        fallback: bool = True,
    ) -> list[list[MemoryHit]]:
        """Return, for each query, what :meth:`aretrieve` returns for it, in one pass.

        The queries are embedded together and their candidates among the user's items read in
        one transaction, which makes several queries of one turn about as cheap as one.
        Arguments are those of :meth:`aretrieve`.
        """
        check_user_id(user_id)
        if k <= 0:
            raise InvalidInputError("k must be positive")
        queries = [check_text(query, "query") for query in queries]
        if not queries:
            return []
        filters = Filters(kinds, include_history, since, until)
        if self.image_embedder is not None:  # each query is also fused with image ranking
            options: dict[str, Any] = {"kinds": kinds, "include_history": include_history}
            options.update(since=since, until=until, fallback=fallback)
            found = [self.aretrieve(user_id, query, k, **options) for query in queries]
            return list(await asyncio.gather(*found))
        return await self._text_hits_many(user_id, queries, k, filters, fallback)

    async def alist_items(
        self,
        user_id: str,
        *,
        kinds: Sequence[str] | None = None,
        include_history: bool = False,
    ) -> list[MemoryHit]:
        """Return all of the user's items, oldest first."""
        check_user_id(user_id)
        concepts = await self.database.run(
            lambda session: self._load(session, user_id, kinds, include_history), write=False
        )
        return [MemoryHit.of(concept) for concept in concepts]

    async def aget(self, user_id: str, item_id: str) -> MemoryHit:
        """Return one of the user's items (``NotFoundError`` if it is not theirs)."""
        check_user_id(user_id)
        return await self.database.run(
            lambda session: MemoryHit.of(self._owned_readable(session, user_id, item_id)),
            write=False,
        )

    async def asuccessors(
        self, user_id: str, item_ids: Sequence[str], limit: int = 4
    ) -> list[MemoryHit]:
        """Return the current facts that replaced the user's given superseded items.

        Each is followed to the current item that ended it, which comes with the other current
        facts said in the same turn (see :mod:`confidante.memory.retrieval.successors`). Ids
        that are not the user's, or items still current, add nothing.
        """
        check_user_id(user_id)
        ids = [item_id for item_id in item_ids if _storable_id(item_id)]
        if not ids:
            return []
        concepts = await self.database.run(
            lambda session: successors_of(session, user_id, ids, limit), write=False
        )
        return [MemoryHit.of(concept) for concept in concepts]

    async def ahistory(self, user_id: str, item_id: str) -> list[dict[str, Any]]:
        """Return the audit trail of one item, oldest first, including what each change replaced."""
        check_user_id(user_id)

        def read(session: Session) -> list[dict[str, Any]]:
            if not _storable_id(item_id):
                raise NotFoundError(f"no memory {shown(item_id)} for this user")
            entries = session.exec(
                select(AuditEntry)
                .where(AuditEntry.user_id == user_id, AuditEntry.concept_id == item_id)
                .order_by(col(AuditEntry.id))
            ).all()
            if not entries:
                raise NotFoundError(f"no memory {shown(item_id)} for this user")
            return [
                {"action": e.action, "before": e.before, "after": e.after, "at": e.at}
                for e in entries
            ]

        return await self.database.run(read, write=False)

    async def asummary(self, user_id: str, task: str = "chat") -> SummaryView | None:
        """Return the user's offline summary for a task, or None if none was generated.

        The view tells whether it is ``stale`` (the user's data changed since) and ``usable``
        (nothing it was built from was edited, replaced or forgotten since).
        """
        return await read_summary(self.database, check_user_id(user_id), task)

    retrieve = sync_twin(aretrieve)
    retrieve_many = sync_twin(aretrieve_many)
    list_items = sync_twin(alist_items)
    get = sync_twin(aget)
    history = sync_twin(ahistory)
    successors = sync_twin(asuccessors)
    summary = sync_twin(asummary)

    def close(self) -> None:
        """Release the database connections."""
        self.database.dispose()
