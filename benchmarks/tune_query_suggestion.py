"""Tune the query-suggestion ranker's weights on the ``tune`` half of the users only.

Coordinate search over :class:`~confidante.tools.suggest.Weights`, maximising MRR@10 on the
targets of the ``tune`` half (see ``benchmarks/query_suggestion.py``); prints the best weights
and the MRR@10 of both halves (the ``held_out`` half is never used to choose). Only aggregates
are printed.

Usage: ``python benchmarks/tune_query_suggestion.py --data ../shared/data/aol-dev/queries.tsv``
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from query_suggestion import DEFAULT_DATA, K, half_of, read_log, reciprocal_rank, split

from confidante.tools.suggest import GlobalLayer, Ranker, UserProfile, Weights

GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    train, targets = split(read_log(args.data))
    profiles = {user: UserProfile.build(acts) for user, acts in train.items()}
    layer = GlobalLayer.build(train)
    tune = [t for t in targets if half_of(t.user) == "tune"]
    held = [t for t in targets if half_of(t.user) == "held_out"]

    def mrr(weights: Weights, part: list) -> float:  # type: ignore[type-arg]
        ranker = Ranker(layer, weights)
        total = 0.0
        for t in part:
            total += reciprocal_rank(
                [s.query for s in ranker.suggest(t.session, profiles[t.user], K)], t.query
            )
        return total / max(1, len(part))

    best = Weights()
    best_score = mrr(best, tune)
    print(f"start tune {best_score:.4f} held_out {mrr(best, held):.4f}")
    for _ in range(args.rounds):
        for name in asdict(best):
            grid = [g for g in GRID if g <= 1.0] if name == "recency" else GRID
            for value in grid:
                candidate = replace(best, **{name: value})
                score = mrr(candidate, tune)
                if score > best_score + 1e-4:
                    best, best_score = candidate, score
        print(f"round tune {best_score:.4f} held_out {mrr(best, held):.4f} {best}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
