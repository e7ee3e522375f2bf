"""Tune the query-suggestion ranker's weights on the ``tune`` half of the users only.

Coordinate ascent over :class:`~confidante.tools.suggest.Weights`, maximising MRR@10 on the
targets of the ``tune`` half (see ``benchmarks/query_suggestion.py``). The candidates and their
features are computed once per ``recency`` value (:meth:`Ranker.featurize`), so each trial of
the other weights is a matrix product. The ``held_out`` half is never used to choose: its
MRR@10 is printed for the chosen weights only, and so is the session-only ranking's with the
same weights and with weights tuned for it alone (so the baseline is not weakened by weights
chosen for the personalized system). Only aggregates are printed.

``--in-sample`` also tunes both systems on the ``held_out`` half itself and prints their MRR@10
there: not a result (the weights see the users they are scored on) but the best lift these
features allow on those users, which tells overfitting of the tune half (a chosen lift far
below it) from users whose history predicts less (a ceiling as low as the chosen lift).

Usage: ``python benchmarks/tune_query_suggestion.py --data ../shared/data/aol-dev/queries.tsv
[--in-sample]``
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from query_suggestion import DEFAULT_DATA, Target, half_of, read_log, split

from confidante.tools.suggest import GlobalLayer, Ranker, UserProfile, Weights
from confidante.tools.suggest.ranker import FEATURES

GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)
RECENCY = (0.25, 0.5, 0.75, 1.0)
K = 10


@dataclass
class Matrix:
    """The candidates of many targets, stacked: features, target, tie order."""

    features: np.ndarray  # (candidates, features)
    segment: np.ndarray  # target index of each candidate
    position: np.ndarray  # rank of the candidate's text within its target (ties break on it)
    hit: np.ndarray  # the candidate is its target's answer
    targets: int

    def mrr(self, weights: np.ndarray) -> float:
        """MRR@10 of a weight vector (as :meth:`Ranker.suggest` would rank)."""
        scores = self.features @ weights
        hits = np.flatnonzero(self.hit)
        answer = np.full(self.targets, np.nan)
        answer_position = np.zeros(self.targets)
        answer[self.segment[hits]] = scores[hits]
        answer_position[self.segment[hits]] = self.position[hits]
        mine, mine_position = answer[self.segment], answer_position[self.segment]
        ahead = (scores > mine) | ((scores == mine) & (self.position < mine_position))
        rank = 1 + np.bincount(self.segment, weights=ahead, minlength=self.targets)
        reciprocal = np.where(~np.isnan(answer) & (rank <= K), 1.0 / rank, 0.0)
        return float(reciprocal.sum() / max(1, self.targets))


def featurize(
    ranker: Ranker, targets: Sequence[Target], profiles: dict[str, UserProfile] | None
) -> Matrix:
    """Stack the candidates' features of ``targets`` (without profiles if None)."""
    rows: list[list[float]] = []
    segment: list[int] = []
    position: list[int] = []
    hit: list[bool] = []
    for index, target in enumerate(targets):
        found = ranker.featurize(target.session, profiles[target.user] if profiles else None)
        for rank, query in enumerate(sorted(found)):
            rows.append([found[query][name] for name in FEATURES])
            segment.append(index)
            position.append(rank)
            hit.append(query == target.query)
    return Matrix(
        np.array(rows, dtype=float).reshape(-1, len(FEATURES)),
        np.array(segment, dtype=int),
        np.array(position, dtype=int),
        np.array(hit, dtype=bool),
        len(targets),
    )


def vector(weights: Weights) -> np.ndarray:
    values = asdict(weights)
    return np.array([values[name] for name in FEATURES], dtype=float)


def ascend(matrices: dict[float, Matrix], start: Weights, rounds: int) -> tuple[Weights, float]:
    """Coordinate ascent from ``start`` over the grid (``recency`` picks the matrix)."""
    best, best_score = start, matrices[start.recency].mrr(vector(start))
    for _ in range(rounds):
        improved = False
        for name in ("recency", *FEATURES):
            for value in RECENCY if name == "recency" else GRID:
                candidate = replace(best, **{name: value})
                score = matrices[candidate.recency].mrr(vector(candidate))
                if score > best_score + 1e-5:
                    best, best_score, improved = candidate, score, True
        if not improved:
            break
    return best, best_score


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--in-sample", action="store_true", help="also tune on held_out (the lift's ceiling)"
    )
    args = parser.parse_args()
    train, targets = split(read_log(args.data))
    profiles = {user: UserProfile.build(acts) for user, acts in train.items()}
    layer = GlobalLayer.build(train)
    tune = [t for t in targets if half_of(t.user) == "tune"]
    held = [t for t in targets if half_of(t.user) == "held_out"]

    def matrices(part: Sequence[Target], with_profiles: bool) -> dict[float, Matrix]:
        return {
            recency: featurize(
                Ranker(layer, Weights(recency=recency), scorer=None),
                part,
                profiles if with_profiles else None,
            )
            for recency in RECENCY
        }

    start = Weights()
    personal = matrices(tune, True)
    print(f"start: tune {personal[start.recency].mrr(vector(start)):.4f}")
    best, score = ascend(personal, start, args.rounds)
    print(f"chosen on tune: tune {score:.4f}\n{best}")
    held_personal = featurize(Ranker(layer, best, scorer=None), held, profiles)
    alone = matrices(tune, False)
    own, own_score = ascend(alone, start, args.rounds)
    held_alone = featurize(Ranker(layer, best, scorer=None), held, None)
    held_own = featurize(Ranker(layer, own, scorer=None), held, None)
    print(
        f"held_out: personalized {held_personal.mrr(vector(best)):.4f}; "
        f"session_only with these weights {held_alone.mrr(vector(best)):.4f}, "
        f"with weights tuned for it (tune {own_score:.4f}) {held_own.mrr(vector(own)):.4f}"
    )
    print(f"session_only with these weights on tune: {alone[best.recency].mrr(vector(best)):.4f}")
    if args.in_sample:
        _, personal_ceiling = ascend(matrices(held, True), start, args.rounds)
        _, alone_ceiling = ascend(matrices(held, False), start, args.rounds)
        print(
            f"tuned on held_out itself (in-sample, not a result): personalized "
            f"{personal_ceiling:.4f}, session_only {alone_ceiling:.4f}, "
            f"lift {personal_ceiling / max(alone_ceiling, 1e-9):.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
