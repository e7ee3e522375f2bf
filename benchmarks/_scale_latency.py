"""Latency helpers of ``memory_scale.py``: retrieval and query-embedding times, quiet and busy."""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

import numpy as np
from _busy import busy_neighbour

from confidante.memory.store import Memory


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else 0.0


async def retrieval_ms(memory: Memory, queries: list[str], vectors: list[Any]) -> list[float]:
    """Milliseconds of one top-10 retrieval per query, its vector given."""
    spent = []
    for query, vector in zip(queries, vectors, strict=True):
        started = time.perf_counter()
        await memory.aretrieve("measured", query, k=10, query_vector=vector)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def embedding_ms(embedder: Any, queries: list[str]) -> list[float]:
    """Milliseconds of one query embedding per query."""
    embedder.embed_query("warm up")
    spent = []
    for query in queries:
        started = time.perf_counter()
        embedder.embed_query(query)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


async def busy_case(
    memory: Memory, queries: list[str], embedders: dict[str, Any]
) -> dict[str, Any]:
    """Retrieval with each query embedder, quiet and while a neighbour keeps every core busy.

    ``retrieve_with_<name>_p95_ms`` adds each query's embedding time to its retrieval time,
    both measured in the same condition.
    """
    vectors = [memory.embedder.embed_query(q) for q in queries]
    out: dict[str, Any] = {}
    for condition in ("quiet", "busy"):
        with ExitStack() as stack:
            if condition == "busy":
                out["busy_processes"] = stack.enter_context(busy_neighbour())
            excluding = await retrieval_ms(memory, queries, vectors)
            row = {"retrieve_p50_ms": percentile(excluding, 50)}
            row["retrieve_p95_ms"] = percentile(excluding, 95)
            for name, embedder in embedders.items():
                spent = embedding_ms(embedder, queries)
                total = [a + b for a, b in zip(excluding, spent, strict=True)]
                row[f"{name}_embedding_p50_ms"] = percentile(spent, 50)
                row[f"{name}_embedding_p95_ms"] = percentile(spent, 95)
                row[f"retrieve_with_{name}_p95_ms"] = percentile(total, 95)
            out[condition] = row
    return out
