"""Ranking of one user's candidate items: dense similarity and full-text scores, fused.

Dense cosine similarity catches paraphrase; the store's full-text score (BM25 in SQLite FTS5,
``ts_rank_cd`` on PostgreSQL) catches rare exact words such as names. The two rankings are
fused by reciprocal rank (RRF), which needs no score calibration (E5 similarities are bunched,
so fixed thresholds would be fragile). Importance and recency then nudge the order among items
of similar relevance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RRF_K = 60


@dataclass(frozen=True)
class RankWeights:
    """How much importance and recency move a fused score.

    Attributes:
        importance: Weight of an item's importance (0..1) relative to the fused score.
        recency: Weight of recency (1 for the newest item, falling linearly to 0 for the oldest).
    """

    importance: float = 0.1
    recency: float = 0.05


def _ranks(scores: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks


def fuse(
    dense: npt.NDArray[np.float32],
    lexical: npt.NDArray[np.float32],
    importance: npt.NDArray[np.float32] | None = None,
    age_rank: npt.NDArray[np.float32] | None = None,
    weights: RankWeights = RankWeights(),
) -> npt.NDArray[np.float64]:
    """Fuse dense and lexical scores by reciprocal rank, nudged by importance and recency.

    Items with no lexical match get no lexical contribution. The result is scaled so that an
    item ranked first by both rankers scores 1.0.

    Args:
        dense: Cosine similarities, one per item.
        lexical: BM25 scores, one per item.
        importance: Importance in [0, 1] per item, or None.
        age_rank: 1.0 for the newest item down to 0.0 for the oldest, or None.
        weights: How much importance and recency count.
    """
    n = len(dense)
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    fused = 1.0 / (RRF_K + _ranks(dense))
    has_lexical = lexical > 0
    fused = fused + np.where(has_lexical, 1.0 / (RRF_K + _ranks(lexical)), 0.0)
    fused = fused / (2.0 / (RRF_K + 1))
    if importance is not None:
        fused = fused * (1.0 + weights.importance * (importance - 0.5))
    if age_rank is not None:
        fused = fused * (1.0 + weights.recency * age_rank)
    return fused


def top_k(scores: npt.NDArray[np.float64], k: int) -> list[int]:
    """Return the indices of the ``k`` highest scores, best first."""
    if k <= 0 or len(scores) == 0:
        return []
    k = min(k, len(scores))
    candidates = np.argpartition(-scores, k - 1)[:k]
    return [int(i) for i in candidates[np.argsort(-scores[candidates], kind="stable")]]


def fuse_rankings(rankings: Sequence[Sequence[str]], k: int) -> list[tuple[str, float]]:
    """Fuse ranked id lists by reciprocal rank; returns the best ``k`` ``(id, score)`` pairs.

    Scaled like :func:`fuse`: an id ranked first by every list scores 1.0.
    """
    totals: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            totals[item] = totals.get(item, 0.0) + 1.0 / (RRF_K + rank)
    best = len(rankings) / (RRF_K + 1) or 1.0
    ordered = sorted(totals.items(), key=lambda pair: pair[1], reverse=True)[:k]
    return [(item, score / best) for item, score in ordered]
