"""llama-index on a personal memory: ingest documents into it, and read it as a retriever.

- :func:`aingest_documents` (sync twin :func:`ingest_documents`) reads files (plain text,
  Markdown, JSON mail exports... with llama-index-core alone; PDF, DOCX and other formats with
  the ``documents`` extra, ``llama-index-readers-file``) or takes llama-index ``Document``
  objects, splits them with a ``SentenceSplitter`` and remembers every chunk as an item of kind
  ``document`` (see :mod:`confidante.memory.ingest.documents`).
- :class:`MemoryRetriever` exposes one user's memory as a llama-index ``BaseRetriever``, so it
  plugs into query engines, chat engines and agents.

Nothing here reaches the network or reads llama-index's OpenAI defaults (``Settings.llm``,
``Settings.embed_model``): splitting needs neither, and the retriever embeds queries with the
memory's own embedder. The splitter's tokenizer reads tiktoken files from the copy bundled in
llama-index-core (see :func:`~confidante.memory.ingest.documents.use_bundled_tiktoken_cache`).

Example:
    >>> ids = ingest_documents(memory, "alice", ["notes/"], progress=True)  # doctest: +SKIP
    >>> MemoryRetriever(memory, "alice", k=3).retrieve("train to Porto")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import Document, NodeWithScore, QueryBundle, TextNode
from rich.console import Console
from rich.progress import Progress

from confidante._sync import run_sync, sync_twin
from confidante.errors import InvalidInputError
from confidante.memory.ingest.documents import document_chunks, load_documents
from confidante.memory.items import MemoryHit, check_user_id
from confidante.memory.store import Memory

__all__ = ["MemoryRetriever", "aingest_documents", "ingest_documents"]


async def aingest_documents(
    memory: Memory,
    user_id: str,
    paths_or_documents: Iterable[str | Path | Document] | str | Path | Document,
    *,
    chunk_size: int = 512,
    chunk_overlap: int | None = None,
    batch_size: int = 64,
    progress: bool = False,
) -> list[str]:
    """Read, split and remember documents in a user's memory; returns the chunks' item ids.

    Chunks are remembered through :meth:`Memory.aremember_many` in batches, so the memory's
    rules apply: a chunk whose text the user already has adds its provenance to that item
    (ingesting a file twice stores nothing new).

    Args:
        memory: The memory.
        user_id: The owner.
        paths_or_documents: Files, directories (read recursively, hidden files skipped) or
            llama-index ``Document`` objects; one or many.
        chunk_size: Chunk size in tokens.
        chunk_overlap: Overlap between chunks in tokens (default: an eighth of the size).
        batch_size: Chunks per embedder call and transaction.
        progress: Show a progress bar (rich, on stderr).

    Returns:
        One id per chunk, in document order (equal chunks share an id).

    Raises:
        InvalidInputError: A path is missing or unreadable, or a size is not positive.
    """
    check_user_id(user_id)
    if chunk_size <= 0 or batch_size <= 0:
        raise InvalidInputError("chunk_size and batch_size must be positive")
    overlap = chunk_size // 8 if chunk_overlap is None else chunk_overlap
    if not 0 <= overlap < chunk_size:
        raise InvalidInputError("chunk_overlap must be at least 0 and less than chunk_size")
    sources: Iterable[str | Path | Document] = (
        [paths_or_documents]
        if isinstance(paths_or_documents, str | Path | Document)
        else paths_or_documents
    )
    documents = await asyncio.to_thread(load_documents, list(sources))
    items = await asyncio.to_thread(document_chunks, documents, chunk_size, overlap)
    ids: list[str] = []
    bar = Progress(console=Console(stderr=True), transient=True) if progress else None
    with bar or nullcontext():
        task = bar.add_task("remembering chunks", total=len(items)) if bar else None
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            ids.extend(await memory.aremember_many(user_id, batch, batch_size=batch_size))
            if bar is not None and task is not None:
                bar.advance(task, len(batch))
    return ids


ingest_documents = sync_twin(aingest_documents)


#: Node metadata that describes where an item is stored or came from (hidden from prompts).
_BOOKKEEPING = [
    *("memory_id", "kind", "key", "scope", "provenance", "importance", "created_at"),
    *("document_id", "file_path", "file_type", "file_size", "chunk", "start_char", "end_char"),
]


class MemoryRetriever(BaseRetriever):
    """One user's memory as a llama-index retriever.

    Each result is a ``NodeWithScore`` whose node id is the memory item's id, whose text is the
    item's text and whose metadata holds ``memory_id``, ``kind``, ``key``, ``scope``,
    ``provenance``, ``importance``, ``created_at`` and the item's attributes (bookkeeping fields
    are kept out of LLM prompts and embeddings). Results are what :meth:`Memory.aretrieve`
    returns for ``user_id``: that user's items (and shared scopes, when the memory falls back to
    them), never another user's.

    Example:
        >>> from llama_index.core.llms import MockLLM  # doctest: +SKIP
        >>> from llama_index.core.query_engine import RetrieverQueryEngine  # doctest: +SKIP
        >>> engine = RetrieverQueryEngine.from_args(  # doctest: +SKIP
        ...     MemoryRetriever(memory, "alice"), llm=MockLLM()
        ... )
    """

    def __init__(
        self,
        memory: Memory,
        user_id: str,
        *,
        k: int = 5,
        kinds: Sequence[str] | None = None,
        include_history: bool = False,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        """Build the retriever.

        Args:
            memory: The memory to read.
            user_id: Whose items to return.
            k: How many items per query.
            kinds: Only items of these kinds (e.g. ``["document"]``).
            include_history: Also superseded items.
            callback_manager: llama-index callbacks (default: none).
        """
        if k <= 0:
            raise InvalidInputError("k must be positive")
        self.memory = memory
        self.user_id = check_user_id(user_id)
        self.k = k
        self.kinds = list(kinds) if kinds else None
        self.include_history = include_history
        super().__init__(callback_manager=callback_manager)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        # the sync twin runs on confidante's own loop thread, so this works inside a running loop
        return run_sync(self._aretrieve(query_bundle))

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = await self.memory.aretrieve(
            self.user_id,
            query_bundle.query_str,
            self.k,
            kinds=self.kinds,
            include_history=self.include_history,
        )
        return [self.node_of(hit) for hit in hits]

    @staticmethod
    def node_of(hit: MemoryHit) -> NodeWithScore:
        """Turn a memory hit into a llama-index ``NodeWithScore``."""
        metadata: dict[str, Any] = {
            **hit.attributes,
            "memory_id": hit.id,
            "kind": hit.kind,
            "key": hit.key,
            "scope": hit.scope,
            "provenance": list(hit.provenance),
            "importance": hit.importance,
            "created_at": hit.created_at.isoformat(),
        }
        node = TextNode(
            id_=hit.id,
            text=hit.text,
            metadata=metadata,
            excluded_llm_metadata_keys=list(_BOOKKEEPING),
            excluded_embed_metadata_keys=list(_BOOKKEEPING),
        )
        return NodeWithScore(node=node, score=hit.score)
