"""Routing accuracy: chat or task, on labeled messages the router was never fitted on.

The router (``confidante.graphs.router``) is fitted on the package's ``routing_data/train.jsonl``
and measured on ``routing_data/test.jsonl``: a split written with the training set
(``set=a``) and an independent set written by another author without seeing the training
data (``set=independent``). Test messages whose exact text is also a training message (short
greetings and the like) are left out. Both the route (chat vs task) and the tool are scored,
with every default tool present; the time per message is the router's alone (embedding
included).

    python benchmarks/routing.py --json OUT
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from _report import print_table

from confidante.graphs import router as router_module
from confidante.graphs.router import CHAT, SHIPPED, Router, load_examples, ship_vectors
from confidante.memory.embeddings.text import build_embedder
from confidante.settings import Settings

TOOLS = [
    SimpleNamespace(name=name, metadata={})
    for name in (
        "add_reminder",
        "list_reminders",
        "recommend",
        "suggest_searches",
        "generate_image",
        "forget_memory",
        "search_memory",
    )
]


def run(cache_dir: Path | None = None) -> dict[str, Any]:
    """Fit the router, route every test message, and return the figures."""
    embedder = build_embedder(Settings())
    router = Router(embedder, cache_dir)
    started = time.perf_counter()
    router.fit_for(TOOLS)
    fit_s = time.perf_counter() - started
    trained = {example.text.strip().lower() for example in router.examples}
    tests = [e for e in load_examples("test") if e.text.strip().lower() not in trained]
    timings, rows = [], []
    for example in tests:
        started = time.perf_counter()
        label = router.label(example.text, TOOLS)
        timings.append(time.perf_counter() - started)
        rows.append((example, label))
    result: dict[str, Any] = {"fit_seconds": round(fit_s, 2), "train_messages": len(trained)}
    for name in ("a", "independent", "all"):
        chosen = [(e, p) for e, p in rows if name == "all" or e.set == name]
        route_ok = [(e.label == CHAT) == (p == CHAT) for e, p in chosen]
        result[name] = {
            "messages": len(chosen),
            "route_accuracy": round(float(np.mean(route_ok)), 4),
            "tool_accuracy": round(float(np.mean([e.label == p for e, p in chosen])), 4),
            "errors": [
                {"text": e.text, "gold": e.label, "predicted": p, "category": e.category}
                for (e, p), ok in zip(chosen, route_ok, strict=True)
                if not ok
            ],
        }
    by_category: dict[str, list[bool]] = defaultdict(list)
    for example, label in rows:
        by_category[example.category].append((example.label == CHAT) == (label == CHAT))
    result["by_category"] = {
        category: {"messages": len(oks), "route_accuracy": round(float(np.mean(oks)), 4)}
        for category, oks in sorted(by_category.items())
    }
    result["labels"] = dict(Counter(e.label for e, _ in rows))
    ms = np.asarray(timings) * 1000
    result["ms_per_message"] = {
        "p50": round(float(np.percentile(ms, 50)), 2),
        "p95": round(float(np.percentile(ms, 95)), 2),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--cache-dir", type=Path, help="cache of the training embeddings")
    parser.add_argument(
        "--ship",
        action="store_true",
        help="first write the training set's embeddings into the package (after editing it)",
    )
    args = parser.parse_args()
    if args.ship:
        target = Path(router_module.__file__).parent / SHIPPED
        count = ship_vectors(build_embedder(Settings()), target)
        print(f"wrote the embeddings of {count} training messages to {target}")
    result = run(args.cache_dir)
    print_table(
        ["set", "messages", "route accuracy", "tool accuracy"],
        [
            [
                name,
                result[name]["messages"],
                result[name]["route_accuracy"],
                result[name]["tool_accuracy"],
            ]
            for name in ("a", "independent", "all")
        ],
    )
    print_table(
        ["category", "messages", "route accuracy"],
        [[c, v["messages"], v["route_accuracy"]] for c, v in result["by_category"].items()],
    )
    print(
        f"router: {result['ms_per_message']['p50']} ms p50, "
        f"{result['ms_per_message']['p95']} ms p95 per message; fitted in {result['fit_seconds']} s"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
