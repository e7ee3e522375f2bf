"""Next-item recommendation benchmark (EVAL.md §3): leave-last-out, full ranking.

    python benchmarks/recommend.py --data ../shared/data/movielens-latest-small --format movielens
    python benchmarks/recommend.py --data seqs.txt --format sequences --json out.json
    python benchmarks/recommend.py --data ../shared/data/movielens-latest-small \
        --format movielens --convert-sequences seqs.txt

Protocol: per user (3+ interactions, time order) the last item is the test target, the one
before it the validation target, the rest the history. Hyperparameters of the recommender are
chosen on the validation targets with the model fitted on the histories; the reported figures
are on the test targets with every model refitted on history + validation item. Every unseen
item is ranked (no sampled negatives).

The recommender is :class:`confidante.tools.recommend.core.RankingCore`, called directly on
batches of histories: the same code the ``recommend`` tool and CLI run per user (they add the
memory's constraints and optional rerank, which this offline protocol has no data for).
Baselines, fitted on the same data in the same run: ``popular`` (most interactions) and
``itemknn`` (cosine over item co-occurrence, the sum of the history's similarity rows).

A variant row, ``confidante+interest_quota``, fills each list interest by interest in
proportion to the interests' shares (kNN-Embed's quota; ``CoreParams.quota``) with the same
fitted model.

Metrics over the evaluated users: HR@10, NDCG@10, catalog coverage (share of items that appear
in any top-10), intra-list diversity (mean ``1 - cosine`` of co-occurrence between the pairs of
a top-10, the same measure for every method), recs_per_s (users scored and ranked per second,
batches of 256, after fitting; ``recs_per_cpu_s`` divides by the process's CPU time instead, which
other processes on a shared machine disturb less).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from confidante.tools.recommend.core import (
    CoreParams,
    RankingCore,
    cosine_itemknn,
    interaction_matrix,
    top_k_rows,
)
from confidante.tools.recommend.data import (
    InteractionLog,
    Split,
    leave_last_out,
    load_movielens,
    load_sequences,
    write_sequences,
)

K = 10
BATCH = 256
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "movielens-latest-small"

Ranker = Callable[[Sequence[Sequence[int]]], np.ndarray]


def hits_and_ndcg(top: np.ndarray, targets: Sequence[int]) -> tuple[float, float]:
    """Return HR@k and NDCG@k of ranked lists against one target each."""
    target = np.asarray(targets)[:, None]
    match = top == target
    found = match.any(axis=1)
    rank = np.argmax(match, axis=1)
    ndcg = np.where(found, 1.0 / np.log2(rank + 2.0), 0.0)
    return float(found.mean()), float(ndcg.mean())


def intra_list_diversity(top: np.ndarray, similarity: np.ndarray) -> float:
    """Mean ``1 - similarity`` over the pairs of each list (padding ``-1`` ignored)."""
    values = []
    for row in top:
        items = row[row >= 0]
        if len(items) < 2:
            continue
        block = similarity[np.ix_(items, items)]
        n = len(items)
        values.append(1.0 - (block.sum() - np.trace(block)) / (n * (n - 1)))
    return float(np.mean(values)) if values else 0.0


def run_ranker(rank: Ranker, histories: Sequence[Sequence[int]]) -> tuple[np.ndarray, float, float]:
    """Rank every history in batches; returns the top-K lists, users per wall second and
    users per CPU second of this process (less sensitive to other processes on the machine).
    """
    parts = []
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(histories), BATCH):
        parts.append(rank(histories[start : start + BATCH]))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    users = len(histories)
    return np.vstack(parts), users / max(seconds, 1e-9), users / max(cpu_seconds, 1e-9)


def evaluate(
    rank: Ranker,
    histories: Sequence[Sequence[int]],
    targets: Sequence[int],
    n_items: int,
    similarity: np.ndarray,
) -> dict[str, float]:
    """Return the metrics of one ranker on one set of targets."""
    top, speed, cpu_speed = run_ranker(rank, histories)
    hr, ndcg = hits_and_ndcg(top, targets)
    return {
        "hr@10": hr,
        "ndcg@10": ndcg,
        "coverage": len(set(top[top >= 0].ravel().tolist())) / n_items,
        "diversity": intra_list_diversity(top, similarity),
        "recs_per_s": speed,
        "recs_per_cpu_s": cpu_speed,
    }


def popular_ranker(train: Sequence[Sequence[int]], n_items: int) -> Ranker:
    counts = np.asarray(interaction_matrix(train, n_items).sum(axis=0)).ravel()
    base = counts.astype(np.float32)

    def rank(histories: Sequence[Sequence[int]]) -> np.ndarray:
        scores = np.repeat(base[None, :], len(histories), axis=0)
        for row, history in enumerate(histories):
            scores[row, list(history)] = -math.inf
        return top_k_rows(scores, K)

    return rank


def itemknn_ranker(train: Sequence[Sequence[int]], n_items: int) -> tuple[Ranker, np.ndarray]:
    similarity = cosine_itemknn(interaction_matrix(train, n_items))

    def rank(histories: Sequence[Sequence[int]]) -> np.ndarray:
        scores = np.asarray(interaction_matrix(histories, n_items) @ similarity)
        for row, history in enumerate(histories):
            scores[row, list(history)] = -math.inf
        return top_k_rows(scores, K)

    return rank, similarity


#: The validation grid: models that need a refit, then decays, then signal weights.
MODELS: tuple[dict[str, Any], ...] = (
    {"cf": "ease", "ease_lambda": 50.0},
    {"cf": "ease", "ease_lambda": 200.0},
    {"cf": "ease", "ease_lambda": 800.0},
    {"cf": "itemknn"},
)
DECAYS = (1.0, 0.98, 0.95, 0.9)
WEIGHTS: tuple[dict[str, float], ...] = tuple(
    {"w_seq": s, "w_interest": i, "w_pop": p}
    for s in (0.0, 0.25, 0.5, 1.0)
    for i in (0.0, 0.25, 0.5)
    for p in (0.0, 0.1)
)
#: Most validation users scored per trial (a seeded sample), so tuning stays cheap.
TUNE_USERS = 3000


def tune(
    split: Split, train: list[list[int]], n_items: int, console: Console
) -> tuple[CoreParams, list[dict[str, Any]]]:
    """Choose hyperparameters by NDCG@10 on the validation targets.

    Each model is fitted once on the histories; each decay computes the signals once; every
    weight combination then only re-combines them.
    """
    rows = np.arange(len(split.users))
    if len(rows) > TUNE_USERS:
        rows = np.sort(np.random.default_rng(0).choice(rows, TUNE_USERS, replace=False))
    histories = [split.history[i] for i in rows]
    targets = [split.validation[i] for i in rows]
    trials: list[dict[str, Any]] = []
    best = (-1.0, CoreParams())
    for model in MODELS:
        core = RankingCore.fit(train, n_items, CoreParams(**model))
        for decay in DECAYS:
            every = core.params.with_(decay=decay, w_seq=1.0, w_interest=1.0)
            signals = [
                core.signals(histories[start : start + BATCH], every)
                for start in range(0, len(histories), BATCH)
            ]
            for weights in WEIGHTS:
                params = every.with_(**weights)
                top = np.vstack(
                    [
                        top_k_rows(
                            core.combine(histories[i * BATCH : (i + 1) * BATCH], part, params), K
                        )
                        for i, part in enumerate(signals)
                    ]
                )
                _, ndcg = hits_and_ndcg(top, targets)
                trials.append({**model, "decay": decay, **weights, "val_ndcg@10": ndcg})
                if ndcg > best[0]:
                    best = (ndcg, params)
        console.print(f"  validated {model}: best so far {best[0]:.4f}")
    return best[1], trials


def load(path: Path, fmt: str) -> InteractionLog:
    return load_movielens(path) if fmt == "movielens" else load_sequences(path)


def run(log: InteractionLog, console: Console, tune_params: bool = True) -> dict[str, Any]:
    split = leave_last_out(log.sequences)
    if not split.users:
        raise SystemExit("no user has 3 or more interactions")
    evaluated = set(split.users)
    others = [list(s) for i, s in enumerate(log.sequences) if i not in evaluated]
    n_items = log.n_items
    params, trials = CoreParams(), []
    if tune_params:
        params, trials = tune(split, [*split.history, *others], n_items, console)
    test_input = split.with_validation()
    train = [*test_input, *others]
    started = time.perf_counter()
    core = RankingCore.fit(train, n_items, params)
    fit_seconds = time.perf_counter() - started
    knn_rank, similarity = itemknn_ranker(train, n_items)
    results = evaluate(lambda h: core.top_k(h, K), test_input, split.test, n_items, similarity)
    results["fit_seconds"] = fit_seconds
    quota = params.with_(quota=True)
    variants = {
        "interest_quota": evaluate(
            lambda h: core.top_k(h, K, quota), test_input, split.test, n_items, similarity
        )
    }
    baselines = {
        "popular": evaluate(
            popular_ranker(train, n_items), test_input, split.test, n_items, similarity
        ),
        "itemknn": evaluate(knn_rank, test_input, split.test, n_items, similarity),
    }
    ratios = {
        name: {
            key: results[key] / value if value else None
            for key, value in figures.items()
            if key in ("hr@10", "ndcg@10", "recs_per_s")
        }
        for name, figures in baselines.items()
    }
    return {
        **results,
        "baselines": baselines,
        "variants": variants,
        "ratios": ratios,
        "params": params.__dict__,
        "users": len(split.users),
        "items": n_items,
        "interactions": log.n_interactions,
        "trials": trials,
    }


def print_table(report: dict[str, Any], console: Console) -> None:
    table = Table(title=f"next-item, leave-last-out, {report['users']} users, full ranking")
    columns = ("method", "HR@10", "NDCG@10", "coverage", "diversity", "users/s", "users/cpu-s")
    for column in columns:
        table.add_column(column)
    rows = [
        ("confidante", report),
        *(("confidante+" + name, figures) for name, figures in report["variants"].items()),
        *report["baselines"].items(),
    ]
    for name, figures in rows:
        table.add_row(
            name,
            f"{figures['hr@10']:.4f}",
            f"{figures['ndcg@10']:.4f}",
            f"{figures['coverage']:.3f}",
            f"{figures['diversity']:.3f}",
            f"{figures['recs_per_s']:,.0f}",
            f"{figures['recs_per_cpu_s']:,.0f}",
        )
    console.print(table)
    knn = report["ratios"]["itemknn"]
    console.print(
        f"NDCG@10 x{knn['ndcg@10']:.2f} and HR@10 x{knn['hr@10']:.2f} vs itemknn; "
        f"params {report['params']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--format", choices=("movielens", "sequences"), default="movielens")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument(
        "--convert-sequences",
        type=Path,
        metavar="OUT",
        help="write the data in the sequences format and exit",
    )
    parser.add_argument("--no-tune", action="store_true", help="use the default parameters")
    args = parser.parse_args(argv)
    console = Console()
    if not args.data.exists():
        console.print(f"[yellow]skipped:[/yellow] no data at {args.data}")
        return 2
    log = load(args.data, args.format)
    if args.convert_sequences:
        count = write_sequences(log, args.convert_sequences)
        console.print(f"wrote {count} users to {args.convert_sequences}")
        return 0
    console.print(f"{len(log.users)} users, {log.n_items} items, {log.n_interactions} interactions")
    report = run(log, console, tune_params=not args.no_tune)
    print_table(report, console)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
