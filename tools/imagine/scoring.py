"""Scoring and selection (PMG step 3): d_p, d_t and z = α·log d_p + (1 − α)·log d_t.

A :class:`Scorer` returns, for every candidate, ``d_p`` (agreement with the user's
preferences) and ``d_t`` (agreement with the target), both in (0, 1]; :func:`select` computes
``z`` and picks its argmax (the first candidate on ties). Scorers:

- :class:`EmbeddingScorer` over any image-text embedder (``embed_images``/``embed_texts`` in
  one space, L2-normalised, :class:`~confidante.memory.embeddings.images.ImageEmbedder`), e.g. a
  CLIP model the user names (:class:`~confidante.memory.embeddings.images.ClipImageEmbedder`) or
  the memory's configured image embedder. It looks at the pixels:
  ``d_t = (1 + cos(image, target text)) / 2`` and ``d_p = (1 + cos(image, p)) / 2`` where ``p``
  is the normalised mean of the preference keywords' text vector and the vectors of the
  user's kept pictures.
- :class:`ConditioningProxyScorer`, the documented fallback when no image-text model is
  available: it scores what each candidate was **conditioned on**, not what was drawn. With the
  memory's text embedder, a candidate's vector is ``c = normalise((1 − λ)·e(target) + λ·e(pref))``
  (the same mixture its prompt embedding used) and ``d_t = (1 + cos(c, e(target))) / 2``,
  ``d_p = (1 + cos(c, e(pref))) / 2``. Candidates with equal λ tie, and the scores say nothing
  about a model that ignores its prompt; use a CLIP model for a faithful choice.

With no preference at all, ``d_p`` is 1 for every candidate (log 1 = 0): z then ranks by d_t.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from PIL import Image

from confidante.errors import InvalidInputError
from confidante.memory.embeddings.images import ImageEmbedder
from confidante.memory.embeddings.text import Embedder, normalise

Vectors = npt.NDArray[np.float32]
#: Scores are clamped to this floor before the logarithm.
MIN_SCORE = 1e-6


@dataclass(frozen=True)
class ScoringContext:
    """What candidates are compared with.

    Attributes:
        target_text: The target prompt.
        preference_text: The preference keywords joined ("" when there are none).
        preference_images: The user's kept pictures (may be empty).
    """

    target_text: str
    preference_text: str = ""
    preference_images: list[Image.Image] = field(default_factory=list)


@dataclass(frozen=True)
class Scored:
    """A candidate as the scorer sees it: its picture and its mixing weight λ."""

    image: Image.Image
    preference_weight: float


@runtime_checkable
class Scorer(Protocol):
    """Scores candidates against the user's preferences and the target.

    Attributes:
        name: Shown in reports.
    """

    name: str

    def score(
        self, candidates: Sequence[Scored], context: ScoringContext
    ) -> list[tuple[float, float]]:
        """Return ``(d_p, d_t)`` in (0, 1] for each candidate, in order."""
        ...


def _similarity(a: Vectors, b: Vectors) -> Vectors:
    result: Vectors = np.clip((1.0 + a @ b) / 2.0, MIN_SCORE, 1.0).astype(np.float32)
    return result


class EmbeddingScorer:
    """d_p and d_t from an image-text embedder that looks at the pixels (e.g. CLIP)."""

    def __init__(self, embedder: ImageEmbedder) -> None:
        self.embedder = embedder
        self.name = f"embedding:{embedder.name}"

    def score(
        self, candidates: Sequence[Scored], context: ScoringContext
    ) -> list[tuple[float, float]]:
        """Score by cosine similarity of each picture with the target and the preferences."""
        images = self.embedder.embed_images([candidate.image for candidate in candidates])
        target = self.embedder.embed_texts([context.target_text])[0]
        d_t = _similarity(images, target)
        parts: list[Vectors] = []
        if context.preference_text:
            parts.append(self.embedder.embed_texts([context.preference_text]))
        if context.preference_images:
            parts.append(self.embedder.embed_images(context.preference_images))
        if not parts:
            return [(1.0, float(t)) for t in d_t]
        preference = normalise(np.concatenate(parts).mean(axis=0, keepdims=True))[0]
        d_p = _similarity(images, preference)
        return [(float(p), float(t)) for p, t in zip(d_p, d_t, strict=True)]


class ConditioningProxyScorer:
    """The documented proxy: scores each candidate's conditioning mixture with a text embedder."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name = f"conditioning-proxy:{embedder.name}"

    def score(
        self, candidates: Sequence[Scored], context: ScoringContext
    ) -> list[tuple[float, float]]:
        """Score ``normalise((1 − λ)·e(target) + λ·e(pref))`` against both ends."""
        texts = [context.target_text] + (
            [context.preference_text] if context.preference_text else []
        )
        vectors = self.embedder.embed_documents(texts)
        target = vectors[0]
        if len(vectors) == 1:
            return [(1.0, 1.0) for _ in candidates]
        preference = vectors[1]
        weights = np.asarray([c.preference_weight for c in candidates], dtype=np.float32)[:, None]
        mixed = normalise(((1.0 - weights) * target + weights * preference).astype(np.float32))
        d_t, d_p = _similarity(mixed, target), _similarity(mixed, preference)
        return [(float(p), float(t)) for p, t in zip(d_p, d_t, strict=True)]


def z_score(d_p: float, d_t: float, alpha: float) -> float:
    """Return ``α·log d_p + (1 − α)·log d_t`` (scores clamped to :data:`MIN_SCORE`)."""
    return alpha * math.log(max(d_p, MIN_SCORE)) + (1 - alpha) * math.log(max(d_t, MIN_SCORE))


def check_alpha(alpha: float) -> float:
    """Validate α (between 0 and 1)."""
    if not isinstance(alpha, int | float) or not 0.0 <= alpha <= 1.0:
        raise InvalidInputError(f"alpha must be between 0 and 1, not {alpha!r}")
    return float(alpha)


def select(scores: Sequence[tuple[float, float]], alpha: float) -> tuple[list[float], int]:
    """Return every candidate's z and the index of the largest (the first on ties)."""
    check_alpha(alpha)
    if not scores:
        raise InvalidInputError("there are no candidates to choose from")
    z = [z_score(d_p, d_t, alpha) for d_p, d_t in scores]
    return z, max(range(len(z)), key=lambda i: (z[i], -i))


__all__ = [
    "MIN_SCORE",
    "ConditioningProxyScorer",
    "EmbeddingScorer",
    "Scored",
    "Scorer",
    "ScoringContext",
    "check_alpha",
    "select",
    "z_score",
]
