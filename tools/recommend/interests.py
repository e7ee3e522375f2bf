"""Multi-interest retrieval in the style of kNN-Embed (Zhai et al., 2022).

A user's history is rarely one taste. Instead of one query vector (the mean of the history,
whose neighbours are near-duplicates of the dominant taste), the recent history is clustered
into a few *interests* in an item embedding space; each interest is a query of its own, and
its share of the (recency-weighted) history decides how much of the result it gets:

- :meth:`InterestModel.batch` clusters many histories at once (spherical k-means, batched,
  deterministic); :meth:`InterestModel.interests` is the same for one history;
- :meth:`InterestModel.score` gives every item ``max_k share_k^½ · cos(c_k, v_item)``, a soft
  version of retrieving from each interest in proportion to its share;
- :func:`quota_merge` is the hard version, used to build a final list: it allocates the list's
  slots to the interests in proportion to their shares and fills each from its own ranking.

The item embeddings come from the interaction data (:func:`item_factors`, a truncated SVD of
the normalised user × item matrix) or from the catalog's text embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.linalg import svds

Floats = npt.NDArray[np.float32]

#: How many of the latest items are clustered into interests.
RECENT_ITEMS = 50


def _unit_rows(vectors: npt.NDArray[np.floating]) -> Floats:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Floats = (vectors / norms).astype(np.float32)
    return result


def item_factors(matrix: sparse.csr_matrix, dim: int) -> Floats:
    """Return unit item vectors from a truncated SVD of the degree-normalised matrix.

    Args:
        matrix: Users × items interactions.
        dim: Dimensions wanted (fewer when the matrix is smaller).
    """
    n_users, n_items = matrix.shape
    dim = max(1, min(dim, n_users - 1, n_items - 1))
    binary = matrix.copy().astype(np.float64)
    binary.data[:] = 1.0
    user_deg = np.asarray(binary.sum(axis=1)).ravel()
    item_deg = np.asarray(binary.sum(axis=0)).ravel()
    scaled = (
        sparse.diags(1.0 / np.sqrt(np.maximum(user_deg, 1.0)))
        @ binary
        @ sparse.diags(1.0 / np.sqrt(np.maximum(item_deg, 1.0)))
    )
    if min(n_users, n_items) <= 2:
        return _unit_rows(np.asarray(scaled.T.toarray()))
    _, singular, vt = svds(scaled, k=dim, random_state=0)
    return _unit_rows((vt.T * np.sqrt(singular)[None, :]).astype(np.float32))


@dataclass(frozen=True)
class Interest:
    """One cluster of a user's history: its unit centroid and its share of the history."""

    centroid: Floats
    share: float


@dataclass(frozen=True)
class BatchInterests:
    """Interests of a batch of histories, padded to the same number of slots.

    Attributes:
        centroids: ``(batch, slots, dim)`` unit centroids.
        shares: ``(batch, slots)`` each interest's share of its history (rows sum to 1).
        present: ``(batch, slots)`` which slots hold an interest.
    """

    centroids: Floats
    shares: Floats
    present: npt.NDArray[np.bool_]


def batch_kmeans(
    vectors: Floats, weights: Floats, k: npt.NDArray[np.int64], slots: int, iterations: int = 5
) -> BatchInterests:
    """Spherical k-means of many small sets at once (padding rows have weight 0).

    Deterministic: each set's first centre is its heaviest (most recent) vector, each next one
    the vector least similar to the centres so far.

    Args:
        vectors: ``(batch, rows, dim)`` unit vectors.
        weights: ``(batch, rows)`` non-negative weights; 0 marks padding.
        k: Clusters wanted per set (at most ``slots``; 0 for an empty set).
        slots: The padded number of clusters.
        iterations: Assignment/update rounds.
    """
    batch, rows, dim = vectors.shape
    real = weights > 0
    everyone = np.arange(batch)
    valid = np.arange(slots)[None, :] < k[:, None]
    centroids = np.zeros((batch, slots, dim), dtype=np.float32)
    pick = np.argmax(weights, axis=1)
    centroids[:, 0] = vectors[everyone, pick]
    closest = np.einsum("brd,bd->br", vectors, centroids[:, 0])
    for slot in range(1, slots):
        pick = np.argmin(np.where(real, closest, np.inf), axis=1)
        centroids[:, slot] = vectors[everyone, pick]
        closest = np.maximum(closest, np.einsum("brd,bd->br", vectors, centroids[:, slot]))
    labels = np.arange(slots)[None, None, :]
    member = np.zeros((batch, rows, slots), dtype=np.float32)
    for _ in range(iterations):
        similarity = np.einsum("brd,bkd->brk", vectors, centroids)
        similarity[~np.broadcast_to(valid[:, None, :], similarity.shape)] = -np.inf
        member = (np.argmax(similarity, axis=2)[:, :, None] == labels) * weights[:, :, None]
        sums = np.einsum("brk,brd->bkd", member, vectors)
        norms = np.linalg.norm(sums, axis=2, keepdims=True)
        centroids = np.where(norms > 0, sums / np.maximum(norms, 1e-12), centroids)
    mass = member.sum(axis=1)
    total = mass.sum(axis=1, keepdims=True)
    shares = np.where(total > 0, mass / np.maximum(total, 1e-12), 0.0).astype(np.float32)
    return BatchInterests(centroids.astype(np.float32), shares, valid & (mass > 0))


class InterestModel:
    """Interests of histories over fixed item embeddings (rows: unit vectors per item)."""

    def __init__(self, item_vectors: Floats) -> None:
        self.item_vectors = np.ascontiguousarray(_unit_rows(item_vectors))

    def batch(
        self, histories: Sequence[Sequence[int]], n_interests: int, decay: float = 1.0
    ) -> BatchInterests:
        """Cluster the latest items of each history into at most ``n_interests`` interests.

        A history gets one interest per 4 of its latest items (at least one, none if empty).
        """
        slots = max(1, n_interests)
        index = np.zeros((len(histories), RECENT_ITEMS), dtype=np.int64)
        weights = np.zeros((len(histories), RECENT_ITEMS), dtype=np.float32)
        k = np.zeros(len(histories), dtype=np.int64)
        for row, history in enumerate(histories):
            recent = history[-RECENT_ITEMS:]
            if len(recent):
                index[row, : len(recent)] = recent
                weights[row, : len(recent)] = decay ** np.arange(len(recent) - 1, -1, -1)
                k[row] = max(1, min(slots, len(recent) // 4))
        vectors = self.item_vectors[index] * (weights > 0)[:, :, None]
        return batch_kmeans(vectors, weights, k, slots)

    def interests(
        self, history: Sequence[int], n_interests: int, decay: float = 1.0
    ) -> list[Interest]:
        """The interests of one history (see :meth:`batch`), largest share first."""
        found = self.batch([history], n_interests, decay)
        interests = [
            Interest(found.centroids[0, slot], float(found.shares[0, slot]))
            for slot in np.flatnonzero(found.present[0])
        ]
        return sorted(interests, key=lambda i: -i.share)

    def score(self, histories: Sequence[Sequence[int]], n_interests: int, decay: float) -> Floats:
        """Score every item for each history: ``max_k share_k^½ · cos(c_k, item)``."""
        found = self.batch(histories, n_interests, decay)
        batch, slots, _ = found.centroids.shape
        out = np.full((batch, len(self.item_vectors)), -np.inf, dtype=np.float32)
        scale = np.sqrt(found.shares)
        for slot in range(slots):
            rows = np.flatnonzero(found.present[:, slot])
            if len(rows):
                similarity = found.centroids[rows, slot] @ self.item_vectors.T
                similarity *= scale[rows, slot][:, None]
                out[rows] = np.maximum(out[rows], similarity)
        out[~found.present.any(axis=1)] = 0.0
        return out

    def per_interest(self, history: Sequence[int], n_interests: int, decay: float) -> Floats:
        """Return each interest's cosine scores over all items (interests × items)."""
        found = self.interests(history, n_interests, decay)
        if not found:
            return np.zeros((0, len(self.item_vectors)), dtype=np.float32)
        result: Floats = np.stack([i.centroid for i in found]) @ self.item_vectors.T
        return result


def quota_merge(rankings: Sequence[Sequence[int]], shares: Sequence[float], k: int) -> list[int]:
    """Merge per-interest rankings into ``k`` items, each interest in proportion to its share.

    Slots go by largest remainder; an interest that runs out of items gives its slots to the
    others. Duplicates are skipped.
    """
    if not rankings:
        return []
    total = sum(shares) or 1.0
    exact = [k * s / total for s in shares]
    quota = [int(q) for q in exact]
    for index in sorted(range(len(exact)), key=lambda i: quota[i] - exact[i])[: k - sum(quota)]:
        quota[index] += 1
    chosen: list[int] = []
    seen: set[int] = set()
    cursors = [0] * len(rankings)
    while len(chosen) < k:
        progressed = False
        for index, ranking in enumerate(rankings):
            if quota[index] <= 0:
                continue
            while cursors[index] < len(ranking) and ranking[cursors[index]] in seen:
                cursors[index] += 1
            if cursors[index] < len(ranking):
                item = ranking[cursors[index]]
                chosen.append(item)
                seen.add(item)
                quota[index] -= 1
                progressed = True
                if len(chosen) == k:
                    break
        if not progressed:
            if all(c >= len(r) for c, r in zip(cursors, rankings, strict=True)):
                break
            quota = [1 if c < len(r) else 0 for c, r in zip(cursors, rankings, strict=True)]
    return chosen
