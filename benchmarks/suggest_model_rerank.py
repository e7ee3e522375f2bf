"""Query suggestion with the chat-model rerank: MRR@10 against the fast ranking, same targets.

EVAL.md §4's split (``benchmarks/query_suggestion.py``): stores from the first 80% of each
user's queries, targets in the last 20%. The chat model is slow on CPU, so a sample of the
``held_out`` targets is used (every n-th one, spread over the half's users). On each target:

- ``fast``: the personalized ranker's top 10;
- ``model_rerank``: its top 20 reranked (and possibly rewritten) by the chat model through
  :func:`~confidante.tools.suggest.rerank.arerank`, as ``SuggestionStore.asuggest(model=...)``
  does; the offline "search" summary is not given (the benchmark has no summary job);
- ``session_only``: the non-personalized ranking, for the ratio.

The chat model is the one the settings name (``CONFIDANTE_MODEL``, default ``local``: the
embedded llama.cpp model; ``scripted`` applies its rerank rule, as ``confidante suggest
--rerank`` does). Seconds per rerank call are reported; a call whose answer is unusable falls
back to the fast ranking and is counted in ``fallbacks``. Only aggregates are printed (the data
is personal).

Usage: ``python benchmarks/suggest_model_rerank.py --data ../shared/data/aol-dev/queries.tsv
[--targets 40] [--json OUT]``
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import report
from langchain_core.language_models import BaseChatModel
from query_suggestion import DEFAULT_DATA, K, half_of, read_log, reciprocal_rank, split

from confidante.models import build_chat_model
from confidante.settings import Settings
from confidante.tools.suggest import GlobalLayer, Ranker, UserProfile
from confidante.tools.suggest.rerank import arerank, rerank_model


class _FallbackCounter(logging.Handler):
    """Counts the rerank's "keeping the fast ranking" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += "keeping the fast ranking" in record.getMessage()


async def run(data: Path, targets: int, model: BaseChatModel, name: str) -> dict[str, Any]:
    """Rerank a sample of ``targets`` held-out targets with ``model``; return the figures."""
    train, all_targets = split(read_log(data))
    held = [t for t in all_targets if half_of(t.user) == "held_out"]
    if not held:
        raise SystemExit("no held-out targets in this file")
    step = max(1, len(held) // max(1, targets))
    sample = held[::step][:targets]
    profiles = {user: UserProfile.build(acts) for user, acts in train.items()}
    ranker = Ranker(GlobalLayer.build(train))
    counter = _FallbackCounter()
    rerank_log = logging.getLogger("confidante.tools.suggest.rerank")
    rerank_log.addHandler(counter)
    fast, reranked, alone, seconds = [], [], [], []
    for target in tqdm(sample, desc="reranking", unit="target", disable=not sys.stderr.isatty()):
        profile = profiles[target.user]
        pool = ranker.suggest(target.session, profile, 2 * K)
        started = time.perf_counter()
        chosen = await arerank(model, target.session, profile, "", pool, K)
        seconds.append(time.perf_counter() - started)
        fast.append(reciprocal_rank([s.query for s in pool], target.query))
        reranked.append(reciprocal_rank([s.query for s in chosen], target.query))
        baseline = ranker.suggest(target.session, None, K)
        alone.append(reciprocal_rank([s.query for s in baseline], target.query))
    rerank_log.removeHandler(counter)

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 4)

    return {
        "data": data.name,
        "model": name,
        "held_out_targets": len(held),
        "targets": len(sample),
        "mrr@10_fast": mean(fast),
        "mrr@10_model_rerank": mean(reranked),
        "mrr@10_session_only": mean(alone),
        "ratio_model_rerank_vs_fast": round(mean(reranked) / mean(fast), 3) if any(fast) else None,
        "ratio_fast_vs_session_only": round(mean(fast) / mean(alone), 3) if any(alone) else None,
        "ratio_model_rerank_vs_session_only": (
            round(mean(reranked) / mean(alone), 3) if any(alone) else None
        ),
        "hits_fast": sum(1 for v in fast if v),
        "hits_model_rerank": sum(1 for v in reranked if v),
        "fallbacks": counter.count,
        "rerank_s_p50": round(statistics.median(seconds), 2),
        "rerank_s_max": round(max(seconds), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="TSV user_id, ts, query")
    parser.add_argument("--targets", type=int, default=40, help="held-out targets to rerank")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    if args.targets <= 0:
        parser.error("--targets must be positive")
    if not args.data.exists():
        print(f"skipped: no data at {args.data} (see ../shared/data/README.md)")
        return 0
    settings = Settings()
    model = rerank_model(build_chat_model(settings))
    result = asyncio.run(run(args.data, args.targets, model, settings.model))
    report(result, "query suggestion: chat-model rerank vs fast ranking", args.json, digits=4)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
