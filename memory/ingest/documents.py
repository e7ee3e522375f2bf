"""Reading and splitting documents for the memory, with llama-index-core alone.

:func:`load_documents` reads files and directories with llama-index's ``SimpleDirectoryReader``
(text formats as is; PDF, DOCX, EPUB... when ``llama-index-readers-file`` is installed, the
``documents`` extra); :func:`document_chunks` splits documents with a ``SentenceSplitter`` into
memory items of kind ``document`` with their provenance. :mod:`confidante.memory.llama` stores
them. Nothing here uses the network or llama-index's global ``Settings``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from math import isfinite
from pathlib import Path
from typing import Any

import llama_index.core
from llama_index.core import SimpleDirectoryReader
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import Document, TextNode

from confidante.errors import InvalidInputError
from confidante.memory.items import MemoryItem

__all__ = [
    "DOCUMENT_KIND",
    "TEXT_SUFFIXES",
    "document_chunks",
    "load_documents",
    "readable_suffixes",
    "use_bundled_tiktoken_cache",
]

#: Suffixes read as plain text by llama-index-core itself (no extra package needed).
TEXT_SUFFIXES = frozenset(
    {
        *(".txt", ".text", ".md", ".markdown", ".rst", ".org", ".tex", ".log", ".csv"),
        *(".json", ".jsonl", ".eml", ".html", ".htm", ".xml", ".yaml", ".yml", ".toml"),
        *(".ini", ".cfg"),
    }
)
DOCUMENT_KIND = "document"
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_READERS_LOGGER = "llama_index.core.readers.file.base"


def use_bundled_tiktoken_cache() -> None:
    """Point tiktoken at the BPE files bundled in llama-index-core, unless a cache is chosen.

    tiktoken downloads its BPE files into ``TIKTOKEN_CACHE_DIR`` when they are missing. This
    sets the variable only when it is unset, and only when called (by the functions that need a
    tokenizer), never when this module is imported.
    """
    bundled = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(bundled))


class _DropMissingReadersWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "llama-index-readers-file" not in record.getMessage()


@contextmanager
def _quiet_reader() -> Iterator[None]:
    """Hide llama-index's warning about the optional readers: text files do not need them."""
    logger = logging.getLogger(_READERS_LOGGER)
    drop = _DropMissingReadersWarning()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def readable_suffixes() -> frozenset[str]:
    """Return the suffixes that can be read here: text, plus the optional readers' formats."""
    with _quiet_reader():  # the optional readers' formats, if they import
        optional = SimpleDirectoryReader.supported_suffix_fn()
    return TEXT_SUFFIXES | frozenset(optional)


def _files_of(path: Path, suffixes: frozenset[str]) -> list[Path]:
    """Return the readable files at ``path`` (a file, or a directory walked recursively)."""
    if path.is_dir():
        return sorted(
            child.resolve()
            for child in path.rglob("*")
            if child.is_file()
            and child.suffix.lower() in suffixes
            and not any(part.startswith(".") for part in child.relative_to(path).parts)
        )
    if not path.is_file():
        raise InvalidInputError(f"no such file or directory: {path}")
    if path.suffix and path.suffix.lower() not in suffixes:  # no suffix: read as text
        raise InvalidInputError(
            f"cannot read {path.name}: no reader for {path.suffix} files here (text formats "
            "work as is; the 'documents' extra, llama-index-readers-file, adds PDF, DOCX...)"
        )
    return [path.resolve()]


def load_documents(sources: Iterable[str | Path | Document]) -> list[Document]:
    """Read files and directories into llama-index documents; documents pass through.

    Raises:
        InvalidInputError: A path does not exist or has a format that cannot be read.
    """
    suffixes = readable_suffixes()
    documents: list[Document] = []
    for source in sources:
        if isinstance(source, Document):
            documents.append(source)
            continue
        files = _files_of(Path(source).expanduser(), suffixes)
        if not files:
            continue
        reader = SimpleDirectoryReader(
            input_files=[str(file) for file in files], filename_as_id=True, raise_on_error=True
        )
        with _quiet_reader():
            documents.extend(reader.load_data())
    return documents


def _title(document: Document) -> str | None:
    title = document.metadata.get("title")
    if isinstance(title, str) and title.strip():
        return title.strip()
    name = str(document.metadata.get("file_name", ""))
    if name and Path(name).suffix.lower() not in {".md", ".markdown"}:
        return None
    heading = _HEADING.search(document.text[:5000])
    return heading.group(1) if heading else None


def _plain_metadata(document: Document) -> dict[str, Any]:
    """Return the document's metadata that is plain JSON (text, numbers, booleans)."""
    return {
        str(name): value
        for name, value in document.metadata.items()
        if isinstance(value, str | int | bool) or (isinstance(value, float) and isfinite(value))
    }


def document_chunks(
    documents: Sequence[Document], chunk_size: int, chunk_overlap: int
) -> list[MemoryItem]:
    """Split documents with a ``SentenceSplitter`` into memory items of kind ``document``.

    Each item's provenance names its source and character range (``file:/abs/notes.md#chars=
    0-812``, or ``document:ID#chars=...`` for a document without a file) and its node id
    (``node:ID``); its attributes hold the document's plain metadata (file name, path, type,
    dates... or whatever a given ``Document`` carries), its title when it has one, the document
    id, the chunk's index and its character offsets.
    """
    use_bundled_tiktoken_cache()
    splitter = SentenceSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        include_metadata=False,  # metadata goes to attributes, not into the chunks
        id_func=lambda index, document: f"{document.id_}#{index}",
    )
    items: list[MemoryItem] = []
    for document in documents:
        path = document.metadata.get("file_path")
        source = f"file:{path}" if path else f"document:{document.id_}"
        base = _plain_metadata(document) | {"document_id": document.id_}
        if path:
            base |= {"file_path": str(path), "file_name": document.metadata.get("file_name")}
        if title := _title(document):
            base["title"] = title
        bare = Document(text=document.text, id_=document.id_)  # chunk_size counts text only
        nodes = [
            node
            for node in splitter.get_nodes_from_documents([bare])
            if isinstance(node, TextNode) and node.text.strip()
        ]
        for index, node in enumerate(nodes):
            start, end = node.start_char_idx, node.end_char_idx
            span = f"#chars={start}-{end}" if start is not None else f"#chunk={index}"
            if page := document.metadata.get("page_label"):  # PDFs: one document per page
                span = f"#page={page}&{span[1:]}"
            items.append(
                MemoryItem(
                    text=node.text,
                    kind=DOCUMENT_KIND,
                    provenance=[source + span, f"node:{node.node_id}"],
                    attributes={**base, "chunk": index, "start_char": start, "end_char": end},
                )
            )
    return items
