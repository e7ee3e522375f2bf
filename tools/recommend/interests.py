"""Multi-interest retrieval in the style of kNN-Embed (Zhai et al., 2022).

A user's history is rarely one taste. Instead of one query vector (the mean of the history,
whose neighbours are near-duplicates of the dominant taste), the recent history is clustered
into a few *interests* in an item embedding space; each interest is a query of its own, and
its share of the (recency-weighted) history decides how much of the result it gets:

- :meth:`InterestModel.interests` clusters one history (spherical k-means, deterministic);
- :meth:`InterestModel.score` gives every item ``max_k share_k^½ · cos(c_k, v_item)``, a soft
  version of retrieving from each interest in proportion to its share;
- :func:`quota_merge` is the hard version, used to build a final list: it allocates the list's
  slots to the interests in proportion to their shares and fills each from its own ranking.

The item embeddings come from the interaction data (:func:`item_factors`, a truncated SVD of
the normalised user × item matrix) or from the catalog's text embeddings.
"""

from __future__ import annotations

import math
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


def spherical_kmeans(
    vectors: Floats, weights: Floats, k: int, iterations: int = 5
) -> tuple[Floats, Floats]:
    """Cluster unit vectors by cosine; returns the unit centroids and each cluster's weight.

    Deterministic: the first centre is the heaviest (most recent) vector, each next one the
    vector least similar to the centres so far.
    """
    k = max(1, min(k, len(vectors)))
    if k == 1:
        centroid = _unit_rows((weights @ vectors)[None, :])
        return centroid, np.asarray([weights.sum()], dtype=np.float32)
    centres = [int(np.argmax(weights))]
    closest = vectors @ vectors[centres[0]]
    for _ in range(1, k):
        centres.append(int(np.argmin(closest)))
        closest = np.maximum(closest, vectors @ vectors[centres[-1]])
    centroids = vectors[centres]
    weighted = vectors * weights[:, None]
    labels = np.arange(k)[None, :]
    member = np.zeros((len(vectors), k), dtype=np.float32)
    for _ in range(iterations):
        member = (np.argmax(vectors @ centroids.T, axis=1)[:, None] == labels).astype(np.float32)
        sums = member.T @ weighted
        empty = ~sums.any(axis=1)
        sums[empty] = centroids[empty]
        centroids = _unit_rows(sums)
    mass: Floats = (weights @ member).astype(np.float32)
    return centroids, mass


class InterestModel:
    """Interests of histories over fixed item embeddings (rows: unit vectors per item)."""

    def __init__(self, item_vectors: Floats) -> None:
        self.item_vectors = np.ascontiguousarray(_unit_rows(item_vectors))

    def interests(
        self, history: Sequence[int], n_interests: int, decay: float = 1.0
    ) -> list[Interest]:
        """Cluster the latest items of one history into at most ``n_interests`` interests.

        A history of fewer than 4 items per interest gets fewer interests. Shares sum to 1;
        the list is sorted by share, largest first.
        """
        recent = np.asarray(history[-RECENT_ITEMS:], dtype=np.int64)
        if len(recent) == 0:
            return []
        weights = (decay ** np.arange(len(recent) - 1, -1, -1)).astype(np.float32)
        k = max(1, min(n_interests, len(recent) // 4))
        centroids, mass = spherical_kmeans(self.item_vectors[recent], weights, k)
        total = float(mass.sum()) or 1.0
        found = [Interest(c, float(m) / total) for c, m in zip(centroids, mass, strict=True)]
        return sorted((i for i in found if i.share > 0), key=lambda i: -i.share)

    def score(self, histories: Sequence[Sequence[int]], n_interests: int, decay: float) -> Floats:
        """Score every item for each history: ``max_k share_k^½ · cos(c_k, item)``."""
        slots = max(1, n_interests)
        dim = self.item_vectors.shape[1]
        centroids = np.zeros((len(histories), slots, dim), dtype=np.float32)
        shares = np.zeros((len(histories), slots), dtype=np.float32)
        present = np.zeros((len(histories), slots), dtype=bool)
        for row, history in enumerate(histories):
            for slot, interest in enumerate(self.interests(history, slots, decay)):
                centroids[row, slot] = interest.centroid
                shares[row, slot] = math.sqrt(interest.share)
                present[row, slot] = True
        similarity = (centroids.reshape(-1, dim) @ self.item_vectors.T).reshape(
            len(histories), slots, -1
        )
        similarity *= shares[:, :, None]
        similarity[~present] = -np.inf
        out: Floats = similarity.max(axis=1)
        out[~present.any(axis=1)] = 0.0
        return out

    def per_interest(self, history: Sequence[int], n_interests: int, decay: float) -> Floats:
        """Return each interest's cosine scores over all items (interests × items)."""
        found = self.interests(history, n_interests, decay)
        if not found:
            return np.zeros((0, len(self.item_vectors)), dtype=np.float32)
        result: Floats = self.item_vectors @ np.stack([i.centroid for i in found]).T
        return result.T.copy()


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
