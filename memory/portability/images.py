"""Import of image items that carry their picture (export format version 2).

An image item of an export holds its PNG file (``image_png``); importing it stores the file in
the target memory's image folder and gives it the target's vectors, like
:meth:`~confidante.memory.store.Memory.aremember_image`: the same picture is stored once per
user (its hash is the item's fingerprint), a current item with a key supersedes the slot, and a
superseded item joins the history. Files written by a transaction that fails are removed.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlmodel import Session, col, select

from confidante.errors import InvalidInputError
from confidante.memory.embeddings.images import IMAGE_KIND, load_image
from confidante.memory.portability.format import ExportEntry, as_utc
from confidante.memory.storage.editing import audit
from confidante.memory.storage.expiry import later_expiry
from confidante.memory.storage.image_concepts import image_concept
from confidante.memory.storage.records import Concept, concept_snapshot, new_id

if TYPE_CHECKING:
    from confidante.memory.store import Memory

__all__ = ["ImageImport", "prepare_images"]


@dataclass
class ImageImport:
    """Image entries of one import, checked and embedded before the transaction."""

    memory: Memory
    user_id: str
    entries: list[tuple[ExportEntry, np.ndarray[Any, Any], np.ndarray[Any, Any] | None]]
    written: list[str]

    def add(self, session: Session, keep_ids: bool) -> dict[str, str]:
        """Write the image items in the caller's transaction; returns old id -> id now."""
        result: dict[str, str] = {}
        for entry, text_vector, image_vector in self.entries:
            png = entry.image_png
            assert png is not None
            digest = hashlib.sha256(png).hexdigest()[:32]
            same = self._same(session, entry, digest)
            if same is not None:
                same.provenance = sorted({*same.provenance, *entry.item.provenance})
                same.expires_at = later_expiry(same.expires_at, entry.item.expires_at)
                session.add(same)
                result[entry.id] = same.id
                continue
            concept = image_concept(
                self.user_id,
                entry.item,
                digest,
                entry.id if keep_ids else new_id(),
                valid_from=entry.valid_from,
                valid_to=entry.valid_to,
                created_at=entry.created_at,
            )
            if entry.valid_to is None:
                self.memory._supersede_slot(session, self.user_id, concept)
            path = self.memory.images.save(self.user_id, concept.id, png)
            self.written.append(str(path))
            concept.image_path = str(path)
            session.add(concept)
            session.flush()
            self.memory._add_vectors(session, self.user_id, [concept], text_vector[None, :])
            self.memory._add_image_vector(session, concept, image_vector)
            session.add(audit(concept, "import", None, concept_snapshot(concept)))
            result[entry.id] = concept.id
        return result

    def discard(self) -> None:
        """Remove the files written by a transaction that did not commit."""
        for path in self.written:
            self.memory.images.delete(path)
        self.written.clear()

    def _same(self, session: Session, entry: ExportEntry, digest: str) -> Concept | None:
        """The user's item for the same picture: current, or (history) the same version."""
        query = select(Concept).where(
            Concept.user_id == self.user_id,
            Concept.kind == IMAGE_KIND,
            Concept.text_hash == digest,
        )
        if entry.valid_to is None:
            return session.exec(query.where(col(Concept.valid_to).is_(None))).first()
        for concept in session.exec(query.where(col(Concept.valid_to).is_not(None))).all():
            if as_utc(concept.valid_from) == entry.valid_from and concept.key == entry.item.key:
                return concept
        return None


async def prepare_images(memory: Memory, user_id: str, entries: list[ExportEntry]) -> ImageImport:
    """Check every picture and compute its vectors (text of the caption, image if possible)."""
    pictures = []
    for entry in entries:
        try:
            pictures.append(await asyncio.to_thread(load_image, entry.image_png or b""))
        except InvalidInputError as exc:
            raise InvalidInputError(f"item {entry.id!r}: image_png: {exc}") from exc
    texts = [entry.item.text for entry in entries]
    text_vectors = await memory._embed_documents(texts) if texts else np.zeros((0, 0))
    prepared = []
    for entry, picture, text_vector in zip(entries, pictures, text_vectors, strict=True):
        prepared.append((entry, text_vector, await memory._embed_image(picture)))
    return ImageImport(memory, user_id, prepared, [])
