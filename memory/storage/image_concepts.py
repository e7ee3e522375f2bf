"""Remembering images and finding them by image or by text.

:class:`ImageConcepts` is a part of :class:`~confidante.memory.store.Memory`. An image concept
is written in one transaction with its caption's text vector and, when the memory has an image
embedder, its image vector; its file is written first (whole, then renamed) and removed again
if the transaction fails, so a committed item always has its file.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from sqlmodel import Session, col, select

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError
from confidante.memory._core import MemoryCore
from confidante.memory.embeddings.images import IMAGE_KIND, ImageInput, load_image
from confidante.memory.index.base import dot_rows
from confidante.memory.items import (
    MemoryHit,
    MemoryItem,
    check_text,
    check_user_id,
)
from confidante.memory.retrieval.candidates import Filters, read_rows
from confidante.memory.storage.editing import audit
from confidante.memory.storage.expiry import TTL, check_expiry, later_expiry, live
from confidante.memory.storage.records import (
    Concept,
    ConceptImageVector,
    concept_snapshot,
    new_id,
    utcnow,
)

if TYPE_CHECKING:
    pass


def encode_png(image: Image.Image) -> tuple[bytes, str]:
    """Encode an image as PNG once; returns the bytes and their 32-hex-digit hash."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()[:32]


def image_concept(
    user_id: str,
    item: MemoryItem,
    digest: str,
    concept_id: str,
    *,
    valid_from: datetime,
    valid_to: datetime | None = None,
    created_at: datetime | None = None,
) -> Concept:
    """Return the row of an image concept (``digest``: its PNG's hash, the item's fingerprint)."""
    return Concept(
        id=concept_id,
        user_id=user_id,
        kind=IMAGE_KIND,
        key=item.key,
        text=item.text,
        text_hash=digest,
        attributes={**item.attributes, "image_sha256": digest},
        provenance=item.provenance,
        importance=item.importance,
        valid_from=valid_from,
        valid_to=valid_to,
        created_at=created_at or valid_from,
        updated_at=created_at or valid_from,
        expires_at=item.expires_at,
    )


class ImageConcepts(MemoryCore):
    """Image concepts: remember an image, retrieve by image (a part of ``Memory``)."""

    async def aremember_image(
        self,
        user_id: str,
        image: ImageInput,
        *,
        caption: str,
        key: str | None = None,
        importance: float = 0.5,
        provenance: Iterable[str] = (),
        attributes: dict[str, Any] | None = None,
        expires_at: datetime | None = None,
        ttl: TTL | None = None,
    ) -> str:
        """Remember an image with its caption; returns the item id.

        The caption is the item's text (found by text like any item); the image is kept as a
        PNG file under the memory's image folder (``MemoryHit.image_path``) and, with an image
        embedder, embedded so it can be found by image. The same image remembered again
        returns the existing item; an image with a ``key`` supersedes the slot's current one.

        Args:
            user_id: The owner.
            image: A PIL image, encoded image bytes or a path to an image file.
            caption: What the image shows, in words.
            key: A stable slot (e.g. ``avatar``).
            importance: 0..1.
            provenance: Ids of the turns or documents it came from.
            attributes: Typed attributes (JSON).
            expires_at: When the item expires (naive: UTC; in the future), as for
                :meth:`~confidante.memory.store.Memory.aremember`; the same image remembered
                again keeps the later of the two expiries.
            ttl: Or how long it lives, a timedelta or seconds (positive).

        Raises:
            InvalidInputError: Bad input, e.g. an expiry in the past or both ``expires_at`` and
                ``ttl``.
        """
        check_user_id(user_id)
        item = MemoryItem(
            text=check_text(caption, "caption"),
            key=key,
            kind=IMAGE_KIND,
            importance=importance,
            provenance=list(provenance),
            attributes=dict(attributes or {}),
            expires_at=check_expiry(expires_at, ttl),
        ).checked()
        item = self._screened_item(item)
        picture = await asyncio.to_thread(load_image, image)
        png, digest = await asyncio.to_thread(encode_png, picture)
        text_vector = await self._embed_documents([item.text])
        image_vector = await self._embed_image(picture)
        item_id = new_id()
        path = await asyncio.to_thread(self.images.save, user_id, item_id, png)

        def write(session: Session) -> str:
            self._ensure_user(session, user_id)
            same = session.exec(
                select(Concept).where(
                    Concept.user_id == user_id,
                    Concept.kind == IMAGE_KIND,
                    Concept.text_hash == digest,
                    col(Concept.valid_to).is_(None),
                    live(),
                )
            ).first()
            if same is not None:
                same.provenance = sorted({*same.provenance, *item.provenance})
                same.expires_at = later_expiry(same.expires_at, item.expires_at)
                session.add(same)
                return same.id
            now = utcnow()
            concept = image_concept(user_id, item, digest, item_id, valid_from=now)
            concept.image_path = str(path)
            self._supersede_slot(session, user_id, concept)
            session.add(concept)
            session.flush()
            self._add_vectors(session, user_id, [concept], text_vector)
            self._add_image_vector(session, concept, image_vector)
            session.add(audit(concept, "add", None, concept_snapshot(concept)))
            return item_id

        try:
            stored_id = await self.database.run(write)
        except BaseException:
            self.images.delete(str(path))
            raise
        if stored_id != item_id:
            self.images.delete(str(path))
        return stored_id

    remember_image = sync_twin(aremember_image)

    @staticmethod
    def _supersede_slot(session: Session, user_id: str, concept: Concept) -> None:
        if not concept.key:
            return
        current = session.exec(
            select(Concept).where(
                Concept.user_id == user_id,
                Concept.key == concept.key,
                col(Concept.valid_to).is_(None),
            )
        ).all()
        for old in current:
            before = concept_snapshot(old)
            old.valid_to, old.superseded_by = concept.valid_from, concept.id
            session.add(old)
            session.add(audit(old, "supersede", before, concept_snapshot(old)))

    def _add_image_vector(
        self, session: Session, concept: Concept, vector: np.ndarray[Any, Any] | None
    ) -> None:
        """Store the image vector of an image concept (nothing without an image embedder)."""
        if vector is None or self.image_embedder is None:
            return
        session.add(
            ConceptImageVector(
                concept_id=concept.id,
                user_id=concept.user_id,
                model=self.image_embedder.name,
                vector=np.asarray(vector, dtype=np.float32).tobytes(),
            )
        )

    async def _embed_image(self, picture: Image.Image) -> np.ndarray[Any, Any] | None:
        if self.image_embedder is None:
            return None
        vectors = await asyncio.to_thread(self.image_embedder.embed_images, [picture])
        return np.asarray(vectors[0], dtype=np.float32)

    async def _image_hits(
        self,
        user_id: str,
        query: str | None,
        image: ImageInput | None,
        k: int,
        filters: Filters,
    ) -> list[MemoryHit]:
        """Rank the user's image concepts by image similarity.

        The similarity is to ``image``, else to ``query`` through the image model's text
        tower. Empty without an image embedder.
        """
        embedder = self.image_embedder
        if embedder is None:
            if image is not None:
                raise InvalidInputError(
                    "retrieving by image needs an image embedder: set "
                    "CONFIDANTE_IMAGE_EMBEDDER=clip:/path/to/a/clip/folder"
                )
            return []
        kinds = filters.kinds
        if kinds and IMAGE_KIND not in kinds:
            return []
        stored = await self.database.run(
            lambda session: session.exec(
                select(ConceptImageVector.concept_id, ConceptImageVector.vector).where(
                    ConceptImageVector.user_id == user_id,
                    ConceptImageVector.model == embedder.name,
                )
            ).all(),
            write=False,
        )
        if not stored:
            return []
        if image is not None:
            picture = await asyncio.to_thread(load_image, image)
            vectors = await asyncio.to_thread(embedder.embed_images, [picture])
        else:
            vectors = await asyncio.to_thread(embedder.embed_texts, [str(query)])
        matrix = np.frombuffer(b"".join(row[1] for row in stored), dtype=np.float32)
        scores = dot_rows(matrix.reshape(len(stored), -1), np.asarray(vectors[0], np.float32))
        by_id = {str(row[0]): float(score) for row, score in zip(stored, scores, strict=True)}
        pool = sorted(by_id, key=by_id.__getitem__, reverse=True)[: max(4 * k, 50)]
        concepts = await self.database.run(
            lambda session: read_rows(session, user_id, pool, filters),
            write=False,
        )
        ranked = sorted(concepts, key=lambda c: by_id[c.id], reverse=True)[:k]
        return [MemoryHit.of(concept, by_id[concept.id]) for concept in ranked]
