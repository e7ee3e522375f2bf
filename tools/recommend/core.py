"""The ranking core: one fitted model that scores every catalog item for a user's history.

The same :class:`RankingCore` serves the graph tool, the CLI and the offline benchmark
(``benchmarks/recommend.py`` calls :meth:`RankingCore.score` directly on batches of histories).

A user's history is a time-ordered list of item indices. Its score for each item is a weighted
sum of per-user normalised signals:

- ``cf``: a collaborative model over the user × item matrix, fed with the history weighted by
  recency (``decay`` per step back in time). ``ease`` is the closed-form EASE model (Steck,
  2019): ``B = I - P diag(1/diag(P))`` with ``P = (XᵀX + λI)⁻¹``; ``itemknn`` is cosine
  similarity over item co-occurrence.
- ``seq``: item-to-next-item transitions within ``window`` steps (weighted ``1/distance``),
  read from the user's last items; it carries the order that a bag of items loses.
- ``interest``: kNN-Embed-style multi-interest similarity (see
  :mod:`confidante.tools.recommend.interests`): the user's recent items are clustered into
  interests in a latent item space, each interest scores items by cosine similarity, scaled by
  the interest's share of the history, so every taste gets its own neighbours.
- ``pop``: log item popularity, the prior that also serves cold start.

The weights are hyperparameters: the benchmark chooses them on each user's validation item.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.linalg import lapack

from confidante.errors import InvalidInputError
from confidante.tools.recommend.interests import InterestModel, item_factors, quota_merge

logger = logging.getLogger(__name__)

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int64]

#: How many of the best items by fused score the interest quota re-ranks.
QUOTA_POOL = 100
#: EASE needs a dense item × item inverse; beyond this many items ``itemknn`` is used instead.
MAX_EASE_ITEMS = 20_000


@dataclass(frozen=True)
class CoreParams:
    """Hyperparameters of :class:`RankingCore` (defaults: chosen on MovieLens validation items).

    Attributes:
        cf: Collaborative model, ``ease`` or ``itemknn``.
        ease_lambda: EASE's L2 regularisation.
        neighbours: Weights kept per item of the collaborative model (largest magnitude), so
            scoring is a sparse product.
        decay: Recency weight per step back in the history (1.0 = a bag of items).
        window: Steps ahead counted as a transition by the ``seq`` signal.
        last: How many of the latest items feed the ``seq`` signal.
        n_interests: Most interests per user for the ``interest`` signal.
        factors: Dimensions of the latent item space the interests live in.
        w_cf: Weight of the collaborative signal.
        w_seq: Weight of the transition signal.
        w_interest: Weight of the multi-interest signal.
        w_pop: Weight of the popularity prior.
        quota: Fill the list interest by interest in proportion to their shares
            (:meth:`RankingCore.quota_top_k`) instead of by fused score alone.
    """

    cf: str = "ease"
    ease_lambda: float = 50.0
    neighbours: int = 200
    decay: float = 0.9
    window: int = 3
    last: int = 3
    n_interests: int = 3
    factors: int = 48
    w_cf: float = 1.0
    w_seq: float = 0.5
    w_interest: float = 0.25
    w_pop: float = 0.1
    quota: bool = False

    def with_(self, **changes: Any) -> CoreParams:
        """Return a copy with some fields changed."""
        return replace(self, **changes)


def _row_max_normalise(scores: Floats) -> Floats:
    """Scale each row to a maximum absolute value of 1 (rows of zeros stay zero)."""
    peak = np.abs(scores).max(axis=1, keepdims=True)
    peak[peak == 0] = 1.0
    result: Floats = scores / peak
    return result


def interaction_matrix(
    sequences: Sequence[Sequence[int]], n_items: int, weights: Sequence[Floats] | None = None
) -> sparse.csr_matrix:
    """Return the users × items matrix of the sequences (binary, or the given weights)."""
    rows = np.repeat(np.arange(len(sequences)), [len(s) for s in sequences])
    cols = np.fromiter((i for s in sequences for i in s), dtype=np.int64, count=len(rows))
    if weights is None:
        data = np.ones(len(rows), dtype=np.float32)
    else:
        parts = [np.asarray(w, dtype=np.float32) for w in weights]
        data = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    matrix = sparse.csr_matrix(
        (data, (rows, cols)), shape=(len(sequences), n_items), dtype=np.float32
    )
    if weights is None:
        matrix.data[:] = 1.0  # duplicates count once
    return matrix


def cosine_itemknn(matrix: sparse.csr_matrix) -> Floats:
    """Return the dense item × item cosine similarity of co-occurrence (diagonal zero)."""
    binary = matrix.copy()
    binary.data[:] = 1.0
    cooc = np.asarray((binary.T @ binary).toarray(), dtype=np.float32)
    counts = np.sqrt(np.diag(cooc)).astype(np.float32)
    counts[counts == 0] = 1.0
    similarity: Floats = cooc / counts[:, None] / counts[None, :]
    np.fill_diagonal(similarity, 0.0)
    return similarity


def ease(matrix: sparse.csr_matrix, lam: float, min_count: int = 2) -> Floats:
    """Return the closed-form EASE item × item weights (diagonal zero).

    Only items with at least ``min_count`` interactions take part (their rows and columns);
    the others get zero weights. The inverse is computed in float32 through a Cholesky
    factorisation (the Gram matrix plus ``λI`` is symmetric positive definite).

    Raises:
        InvalidInputError: The regularised Gram matrix is not positive definite (``λ <= 0``).
    """
    binary = matrix.copy()
    binary.data[:] = 1.0
    counts = np.asarray(binary.sum(axis=0)).ravel()
    active = np.flatnonzero(counts >= min_count)
    n_items = matrix.shape[1]
    weights = np.zeros((n_items, n_items), dtype=np.float32)
    if len(active) == 0:
        return weights
    sub = binary[:, active]
    gram = np.asarray((sub.T @ sub).toarray(), dtype=np.float32)
    gram[np.diag_indices_from(gram)] += lam
    factor, info = lapack.spotrf(gram, lower=False, overwrite_a=True)
    if info != 0:
        raise InvalidInputError(f"EASE: the Gram matrix is not positive definite (lambda={lam})")
    inverse, info = lapack.spotri(factor, lower=False, overwrite_c=True)
    inverse = np.triu(inverse) + np.triu(inverse, 1).T
    block = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(block, 0.0)
    weights[np.ix_(active, active)] = block
    return weights


def prune_rows(weights: Floats, keep: int) -> sparse.csr_matrix:
    """Keep the ``keep`` largest-magnitude entries of each row of a dense matrix (sparse)."""
    n_rows, n_cols = weights.shape
    keep = max(1, min(keep, n_cols))
    columns = np.argpartition(-np.abs(weights), keep - 1, axis=1)[:, :keep]
    values = np.take_along_axis(weights, columns, axis=1)
    rows = np.repeat(np.arange(n_rows), keep)
    pruned = sparse.csr_matrix(
        (values.ravel(), (rows, columns.ravel())), shape=(n_rows, n_cols), dtype=np.float32
    )
    pruned.eliminate_zeros()
    return pruned


def transitions(sequences: Sequence[Sequence[int]], n_items: int, window: int) -> sparse.csr_matrix:
    """Return item → later item counts within ``window`` steps, weighted ``1/distance``.

    Rows are normalised by ``sqrt`` of the row and column totals, so frequent items do not
    dominate.
    """
    rows: list[Ints] = []
    cols: list[Ints] = []
    vals: list[Floats] = []
    for seq in sequences:
        items = np.asarray(seq, dtype=np.int64)
        for distance in range(1, window + 1):
            if len(items) <= distance:
                break
            rows.append(items[:-distance])
            cols.append(items[distance:])
            vals.append(np.full(len(items) - distance, 1.0 / distance, dtype=np.float32))
    if not rows:
        return sparse.csr_matrix((n_items, n_items), dtype=np.float32)
    matrix = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_items, n_items),
        dtype=np.float32,
    )
    out_total = np.asarray(matrix.sum(axis=1)).ravel()
    in_total = np.asarray(matrix.sum(axis=0)).ravel()
    out_scale = 1.0 / np.sqrt(np.maximum(out_total, 1.0))
    in_scale = 1.0 / np.sqrt(np.maximum(in_total, 1.0))
    scaled: sparse.csr_matrix = sparse.diags(out_scale) @ matrix @ sparse.diags(in_scale)
    return scaled.tocsr().astype(np.float32)


@dataclass
class RankingCore:
    """A fitted ranking model over ``n_items`` catalog positions.

    Build it with :meth:`fit`; score batches of histories with :meth:`score` and take the best
    items with :meth:`top_k`.
    """

    params: CoreParams
    n_items: int
    popularity: Floats
    cf_weights: sparse.csr_matrix
    seq_weights: sparse.csr_matrix
    interests: InterestModel
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        sequences: Sequence[Sequence[int]],
        n_items: int,
        params: CoreParams | None = None,
    ) -> RankingCore:
        """Fit every signal on time-ordered item sequences (one per user).

        Raises:
            InvalidInputError: No interactions, or an item index outside ``range(n_items)``.
        """
        params = params or CoreParams()
        if n_items <= 0 or not any(sequences):
            raise InvalidInputError("the recommender needs at least one interaction to fit")
        flat = [i for s in sequences for i in s]
        if min(flat) < 0 or max(flat) >= n_items:
            raise InvalidInputError("an interaction names an item outside the catalog")
        matrix = interaction_matrix(sequences, n_items)
        cf = params.cf
        if cf == "ease" and n_items > MAX_EASE_ITEMS:
            logger.warning("%d items: too many for EASE, using itemknn", n_items)
            cf = "itemknn"
        if cf == "ease":
            cf_weights = ease(matrix, params.ease_lambda)
        elif cf == "itemknn":
            cf_weights = cosine_itemknn(matrix)
        else:
            raise InvalidInputError(f"unknown collaborative model {params.cf!r}")
        cf_sparse = prune_rows(cf_weights, params.neighbours)
        del cf_weights
        counts = np.asarray(matrix.sum(axis=0), dtype=np.float32).ravel()
        popularity = np.log1p(counts).astype(np.float32)
        return cls(
            params=params,
            n_items=n_items,
            popularity=popularity,
            cf_weights=cf_sparse,
            seq_weights=transitions(sequences, n_items, params.window),
            interests=InterestModel(item_factors(matrix, params.factors)),
        )

    def history_weights(
        self, histories: Sequence[Sequence[int]], decay: float | None = None
    ) -> sparse.csr_matrix:
        """Return the batch × items matrix of recency-weighted histories."""
        rate = self.params.decay if decay is None else decay
        weights = [rate ** np.arange(len(h) - 1, -1, -1, dtype=np.float32) for h in histories]
        return interaction_matrix(histories, self.n_items, weights)

    def signals(
        self, histories: Sequence[Sequence[int]], params: CoreParams | None = None
    ) -> dict[str, Floats]:
        """Return each signal's scores (rows scaled to a maximum of 1) for the histories.

        Only signals with a non-zero weight in ``params`` are computed.
        """
        p = params or self.params
        found: dict[str, Floats] = {}
        if p.w_cf:
            cf = self.history_weights(histories, p.decay) @ self.cf_weights
            found["cf"] = _row_max_normalise(np.asarray(cf.toarray(), dtype=np.float32))
        if p.w_seq:
            recent = [h[-p.last :] for h in histories]
            seq = self.history_weights(recent, p.decay) @ self.seq_weights
            found["seq"] = _row_max_normalise(np.asarray(seq.toarray(), dtype=np.float32))
        if p.w_interest:
            interest = self.interests.score(histories, p.n_interests, p.decay)
            found["interest"] = _row_max_normalise(interest)
        return found

    def combine(
        self,
        histories: Sequence[Sequence[int]],
        signals: dict[str, Floats],
        params: CoreParams | None = None,
    ) -> Floats:
        """Sum weighted signals and the popularity prior; seen items get ``-inf``.

        An empty history (cold start) is ranked by popularity alone.
        """
        p = params or self.params
        total = np.zeros((len(histories), self.n_items), dtype=np.float32)
        for name, weight in (("cf", p.w_cf), ("seq", p.w_seq), ("interest", p.w_interest)):
            if weight and name in signals:
                total += weight * signals[name]
        empty = np.asarray([len(h) == 0 for h in histories])
        pop_weight = np.where(empty, 1.0, p.w_pop).astype(np.float32)
        peak = float(self.popularity.max()) or 1.0
        total += pop_weight[:, None] * (self.popularity / peak)[None, :]
        for row, history in enumerate(histories):
            if len(history):
                total[row, np.asarray(history, dtype=np.int64)] = -math.inf
        return total

    def score(self, histories: Sequence[Sequence[int]], params: CoreParams | None = None) -> Floats:
        """Score every item for each history; seen items get ``-inf``.

        Args:
            histories: Time-ordered item indices, one list per user (may be empty: popularity).
            params: Weights, decay and ``last`` to use instead of the fitted ones (the fitted
                matrices stay).

        Returns:
            An array of shape ``(len(histories), n_items)``.
        """
        return self.combine(histories, self.signals(histories, params), params)

    def top_k(
        self,
        histories: Sequence[Sequence[int]],
        k: int,
        params: CoreParams | None = None,
        exclude: Sequence[Sequence[int]] | None = None,
    ) -> Ints:
        """Return the ``k`` best unseen item indices per history, best first.

        Args:
            histories: As for :meth:`score`.
            k: How many items per history.
            params: As for :meth:`score`.
            exclude: More item indices per history that must not be returned (constraints).
        """
        scores = self.score(histories, params)
        if exclude is not None:
            for row, items in enumerate(exclude):
                if len(items):
                    scores[row, np.asarray(items, dtype=np.int64)] = -math.inf
        if not (params or self.params).quota:
            return top_k_rows(scores, k)
        return np.stack(
            [self.quota_top_k(h, row, k, params) for h, row in zip(histories, scores, strict=True)]
        )

    def quota_top_k(
        self, history: Sequence[int], scores: Floats, k: int, params: CoreParams | None = None
    ) -> Ints:
        """Fill ``k`` slots interest by interest, each in proportion to its share (kNN-Embed).

        The best ``QUOTA_POOL`` items by fused score are re-ranked once per interest (fused
        score plus cosine similarity to the interest) and merged by
        :func:`~confidante.tools.recommend.interests.quota_merge`. A history with one interest
        gets the plain top ``k``.

        Returns:
            ``k`` item indices, best first, padded with ``-1``.
        """
        p = params or self.params
        found = self.interests.interests(history, p.n_interests, p.decay)
        if len(found) < 2:
            plain: Ints = top_k_rows(scores[None, :], k)[0]
            return plain
        pool = top_k_rows(scores[None, :], max(QUOTA_POOL, k))[0]
        pool = pool[pool >= 0]
        base = _row_max_normalise(scores[pool][None, :])[0]
        centroids = np.stack([interest.centroid for interest in found])
        similarity = centroids @ self.interests.item_vectors[pool].T
        rankings = [pool[np.argsort(-(base + row), kind="stable")].tolist() for row in similarity]
        merged = quota_merge(rankings, [interest.share for interest in found], k)
        out = np.full(k, -1, dtype=np.int64)
        out[: len(merged)] = merged
        return out


def top_k_rows(scores: Floats, k: int) -> Ints:
    """Return the column indices of the ``k`` largest finite scores per row, best first.

    Rows with fewer than ``k`` finite scores are padded with ``-1``.
    """
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    picked = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-picked, axis=1, kind="stable")
    best = np.take_along_axis(part, order, axis=1).astype(np.int64)
    best[~np.isfinite(np.take_along_axis(picked, order, axis=1))] = -1
    return best
