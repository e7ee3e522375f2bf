"""Fit the learned query-suggestion ranker on the ``tune`` half of the users only.

The held-out half (``half_of`` in ``benchmarks/query_suggestion.py``) is never read for
fitting or choosing: its users' targets are what the benchmark reports. Training targets come
from the ``tune`` users in three time windows (:data:`WINDOWS`): for each, every user's store
is built from the queries before the window and the global layer from every user's queries
before it (the benchmark's own layer for the last window; for the held-out users that is only
their training part, never a target), and each ``tune`` target gives one row per candidate
(:class:`~confidante.tools.suggest.learned.TrainingRow`); users with a history shorter than
:data:`~confidante.tools.suggest.ranker.MIN_TRANSITIONS` are left out (the learned ranker does
not score them).

Both logistic models are fitted on those rows (:func:`~confidante.tools.suggest.learned.
fit_scorer`); ``boost`` is chosen by cross-validation over ``tune`` users (:data:`FOLDS` folds:
fitted on the other users' rows, scored on the fold's last two windows), maximising the sum of
MRR@10 on all targets and on new queries. The folds' figures are printed beside the
``followups_plus_frequent`` baseline's on the same targets, and written into the model
(``trained_on``). Only aggregates are printed (the data is personal).

Usage: ``python benchmarks/train_query_suggestion.py --data ../shared/data/aol-dev/queries.tsv
[--out tools/suggest/ranker_model.json]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from query_suggestion import (
    DEFAULT_DATA,
    K,
    Target,
    half_of,
    read_log,
    reciprocal_rank,
    reference_baselines,
    split,
)

from confidante.tools.suggest import GlobalLayer, Ranker, UserProfile
from confidante.tools.suggest.learned import LearnedScorer, TrainingRow, fit_scorer
from confidante.tools.suggest.ranker import MIN_TRANSITIONS

#: The windows (start, end) of each user's queries whose targets train: the benchmark's last.
WINDOWS = ((0.4, 0.6), (0.6, 0.8), (0.8, 1.0))
#: The windows whose targets score the cross-validation folds.
SCORED = ((0.6, 0.8), (0.8, 1.0))
BOOSTS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
FOLDS = 6
STRENGTH = 0.1
OUT = Path(__file__).resolve().parents[1] / "tools" / "suggest" / "ranker_model.json"


@dataclass
class Example:
    """One training target: its candidates (features and membership of the session)."""

    user: str
    window: tuple[float, float]
    target: Target
    candidates: dict[str, dict[str, float]]
    baseline: list[str]

    @property
    def new(self) -> bool:
        return self.target.query not in self.target.session

    def rows(self) -> list[TrainingRow]:
        session = set(self.target.session)
        return [
            TrainingRow(features, query in session, query == self.target.query)
            for query, features in self.candidates.items()
        ]


def examples(users: dict[str, Any], half: str = "tune") -> list[Example]:
    """Every target of ``half``'s users in every window, with its candidates' features."""
    found: list[Example] = []
    for window in WINDOWS:
        train, targets = split(users, *window)
        layer = GlobalLayer.build(train)
        baseline = reference_baselines(train)["followups_plus_frequent"]
        ranker = Ranker(layer, scorer=None)
        profiles: dict[str, UserProfile] = {}
        for target in targets:
            if half_of(target.user) != half:
                continue
            if target.user not in profiles:
                profiles[target.user] = UserProfile.build(train[target.user])
            if profiles[target.user].transitions < MIN_TRANSITIONS:
                continue  # the learned ranker does not score them (a short history)
            candidates = ranker.featurize(target.session, profiles[target.user], learned=True)
            ordered = dict(sorted(candidates.items()))  # the same rows whatever the hash seed
            found.append(Example(target.user, window, target, ordered, baseline(target)))
    return found


def ranked(scorer: LearnedScorer, example: Example) -> list[str]:
    scores = scorer.score(example.candidates, set(example.target.session))
    return sorted(scores, key=lambda query: (-scores[query], query))[:K]


def cross_validate(found: Sequence[Example], seed: int = 0) -> dict[float, dict[str, float]]:
    """MRR@10 (all targets, new queries) and the baseline's, per boost, over user folds."""
    users = sorted({example.user for example in found})
    random.Random(seed).shuffle(users)
    folds = [set(users[index::FOLDS]) for index in range(FOLDS)]
    scored: dict[float, list[tuple[bool, float, float]]] = defaultdict(list)
    for fold in folds:
        fitted = fit_scorer(
            (row for e in found if e.user not in fold for row in e.rows()), strength=STRENGTH
        )
        for example in found:
            if example.user not in fold or example.window not in SCORED:
                continue
            base = reciprocal_rank(example.baseline, example.target.query)
            for boost in BOOSTS:
                scorer = LearnedScorer(fitted.again, fitted.new, boost)
                mine = reciprocal_rank(ranked(scorer, example), example.target.query)
                scored[boost].append((example.new, mine, base))
    return {boost: _figures(values) for boost, values in scored.items()}


def _figures(values: list[tuple[bool, float, float]]) -> dict[str, float]:
    new = [(mine, base) for is_new, mine, base in values if is_new]
    mine_new = statistics.fmean(m for m, _ in new) if new else 0.0
    base_new = statistics.fmean(b for _, b in new) if new else 0.0
    return {
        "mrr@10": round(statistics.fmean(m for _, m, _ in values), 4),
        "new_queries_mrr@10": round(mine_new, 4),
        "baseline_new_queries_mrr@10": round(base_new, 4),
        "targets": len(values),
    }


def train(data: Path, out: Path) -> dict[str, Any]:
    """Fit on the ``tune`` users of ``data``, choose the boost, write the model to ``out``."""
    found = examples(read_log(data))
    if not found:
        raise SystemExit(f"no target of a tune user in {data}")
    folds = cross_validate(found)
    boost = max(
        BOOSTS, key=lambda b: folds[b]["mrr@10"] + folds[b]["new_queries_mrr@10"] - 1e-6 * b
    )
    record = {
        "data": data.name,
        "half": "tune",
        "users": len({e.user for e in found}),
        "targets": len(found),
        "windows": [list(window) for window in WINDOWS],
        "strength": STRENGTH,
        "cross_validation": {"boost": boost, **folds[boost]},
    }
    scorer = fit_scorer(
        (row for example in found for row in example.rows()),
        boost=boost,
        strength=STRENGTH,
        trained_on=record,
    )
    scorer.save(out)
    return {"chosen": record, "folds": {str(b): figures for b, figures in folds.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the model")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"skipped: no data at {args.data} (see ../shared/data/README.md)")
        return 0
    result = train(args.data, args.out)
    for boost, figures in result["folds"].items():
        print(f"boost {boost}: {figures}")
    print(f"chosen: {result['chosen']}\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
