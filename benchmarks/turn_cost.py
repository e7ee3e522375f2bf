"""Turn cost of the agent (EVAL.md §5): framework time per turn, prompt tokens, bare baseline.

Full graph turns (recall → route → respond → remember, every node real: SQLite memory,
SQLite checkpoints, LangGraph) on the deterministic scripted model, for one user who owns N
memories (default 1k and 100k, written with ``remember_many`` batches and the cheap
deterministic ``HashingEmbedder`` of ``memory_scale.py``). Per turn:

- wall time, time inside the chat model and time inside the embedding model (the union of
  the intervals spent in them, so concurrent calls are not counted twice);
- framework time = wall − model − embedding;
- model calls and tokens (``TurnResult.usage``), and those of the turn's memory writes
  (``write_model_calls_per_turn_*``, ``write_tokens_per_turn_*``: extraction, summaries);
- the CPU time of the whole process during the turn (``cpu_p50_ms_*``: all threads, the
  model's and the embedder's included): other processes on the machine barely move it, so
  ``cpu_ratio_vs_bare_*`` (over the bare graph's) is the figure to compare between runs on a
  busy machine;
- the same for a bare LangGraph graph (one node calling the same model on the thread's
  messages, same SQLite checkpointer): the ratio is confidante's framework time over it;
- and for a bare chain of as many steps as a chat turn's four nodes in sequence
  (``bare_4_steps_p50_ms``: three nodes that write one small field, then the model's):
  LangGraph's own cost of those steps and their checkpoints (``ratio_vs_bare_4_steps_*``).
  The default graph runs the four nodes as two steps (``graphs/parallel.py``), so a ratio
  below 1 is possible; a graph whose extensions keep them in sequence pays the four.

Prompt tokens of the reply prompt at equal recall, for questions whose answers are spread
over many memories (see ``summary_tokens.py``): the offline summary written by the real summary
job + the top k memories, versus retrieval alone, each with the smallest k whose recall of the
answers' facts reaches ``--target-recall``, versus the full conversation history.

    python benchmarks/turn_cost.py [--sizes 1000,100000] [--turns 60] [--json OUT]
        [--model scripted|local] [--embedder hashing|settings] [--target-recall 0.8]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, MessagesState, StateGraph
from rich.progress import track

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared benchmark helpers
from _report import report
from memory_scale import HashingEmbedder, percentile, synthetic_texts
from summary_tokens import add_arguments, prompt_tokens_from_args

from confidante import Agent, Settings
from confidante.memory.storage.database import Database
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.usage import Usage

USER = "measured"
#: Nodes of a chat turn (recall, route, respond, remember): the chained bare baseline's steps.
CHAT_STEPS = 4
TURNS = [
    "I really like {t}.",
    "What do I know about {p} and {t}?",
    "My friend {p} moved to {c}.",
    "Where did {p} go for {t}?",
    "I work at {p} Studio in {c}.",
    "Can you tell me what {p} recommended about {t} in {c}?",
]


class Clock:
    """Intervals spent inside the chat model and the embedder (thread-safe)."""

    def __init__(self) -> None:
        self.intervals: list[tuple[float, float]] = []
        self.model = 0.0
        self.embed = 0.0
        self._lock = threading.Lock()

    def add(self, kind: str, start: float, end: float) -> None:
        with self._lock:
            self.intervals.append((start, end))
            setattr(self, kind, getattr(self, kind) + end - start)

    def reset(self) -> None:
        with self._lock:
            self.intervals, self.model, self.embed = [], 0.0, 0.0

    def busy(self) -> float:
        """Length of the union of the recorded intervals."""
        total, current_end = 0.0, float("-inf")
        for start, end in sorted(self.intervals):
            if start > current_end:
                total += end - start
                current_end = end
            elif end > current_end:
                total += end - current_end
                current_end = end
        return total


class TimedEmbedder(HashingEmbedder):
    """The hashing embedder, with its time recorded on a clock."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def embed_documents(self, texts: list[str]) -> Any:
        start = time.perf_counter()
        try:
            return super().embed_documents(texts)
        finally:
            self.clock.add("embed", start, time.perf_counter())


class TimedModel(ScriptedChatModel):
    """The scripted model, with the time of each call (worker thread included) recorded."""

    clock: Any = None

    async def _acomplete(self, payload: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        try:
            return await super()._acomplete(payload)
        finally:
            self.clock.add("model", start, time.perf_counter())


def label(n: int) -> str:
    """1000 → ``1k``, 100000 → ``100k``."""
    return f"{n // 1000}k" if n % 1000 == 0 and n >= 1000 else str(n)


def messages_for(turns: int) -> list[str]:
    texts = synthetic_texts(turns, seed=7)
    out = []
    for index, text in enumerate(texts):
        words = text.replace(",", "").replace(".", "").split()
        person = next((w for w in words if w[:1].isupper() and w not in {"The"}), "Ana")
        out.append(TURNS[index % len(TURNS)].format(p=person, c=words[-3], t=words[3]))
    return out


async def fill(memory: Memory, n: int) -> float:
    """Write ``n`` memories for the measured user in batches; returns the seconds it took."""
    started = time.perf_counter()
    texts = synthetic_texts(n, seed=1)
    for start in track(range(0, n, 2000), description=f"{n:,} memories", transient=True):
        await memory.aremember_many(USER, texts[start : start + 2000], batch_size=2000)
    return time.perf_counter() - started


def summarise(
    wall: list[float], model: list[float], embed: list[float], frame: list[float], cpu: list[float]
) -> dict[str, float]:
    return {
        "p50_ms": percentile(frame, 50),
        "p95_ms": percentile(frame, 95),
        "wall_p50_ms": percentile(wall, 50),
        "model_p50_ms": percentile(model, 50),
        "embedding_p50_ms": percentile(embed, 50),
        "cpu_p50_ms": percentile(cpu, 50),
    }


#: The kinds of model call that write memory (see ``confidante.usage``).
WRITE_KINDS = ("extraction", "summary")


def usage_per_turn(usages: list[Usage]) -> dict[str, float]:
    """Model calls and tokens per turn, and those of its memory writes (``TurnResult.usage``)."""
    count = max(len(usages), 1)
    writes = [u.by_kind[k] for u in usages for k in WRITE_KINDS if k in u.by_kind]
    return {
        "model_calls_per_turn": sum(u.calls for u in usages) / count,
        "tokens_per_turn": sum(u.total_tokens for u in usages) / count,
        "write_model_calls_per_turn": sum(w.calls for w in writes) / count,
        "write_tokens_per_turn": sum(w.total_tokens for w in writes) / count,
    }


async def agent_turns(n: int, turns: int, warmup: int, root: Path) -> dict[str, float]:
    """Framework time per full graph turn for a user who owns ``n`` memories."""
    clock = Clock()
    memory = Memory(Database.open(f"sqlite:///{root / f'memory-{n}.db'}"), TimedEmbedder(clock))  # type: ignore[arg-type]
    build_s = await fill(memory, n)
    started = time.perf_counter()
    warm = getattr(memory.index, "warm", None)
    if warm is not None:  # load the user's vectors and, above the threshold, build the HNSW
        await memory.database.run(lambda session: warm(session, USER), write=False)
    warm_s = time.perf_counter() - started
    settings = Settings(_env_file=None, data_dir=root / f"data-{n}", model="scripted")  # type: ignore[call-arg]
    agent = Agent(USER, settings=settings, memory=memory, model=TimedModel(clock=clock))
    wall, model, embed, frame, cpu = [], [], [], [], []
    usages: list[Usage] = []
    stored_before = 0
    for index, text in enumerate(messages_for(turns + warmup)):
        if index == warmup:
            stored_before = checkpoint_bytes(settings.checkpoint_path)
        clock.reset()
        started, cpu_started = time.perf_counter(), time.process_time()
        result = await agent.aturn(text)
        elapsed = time.perf_counter() - started
        if index >= warmup:
            usages.append(result.usage)
            wall.append(elapsed * 1000)
            model.append(clock.model * 1000)
            embed.append(clock.embed * 1000)
            frame.append((elapsed - clock.busy()) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
    await agent.aclose()
    memory.close()
    growth = (checkpoint_bytes(settings.checkpoint_path) - stored_before) / max(turns, 1)
    figures = summarise(wall, model, embed, frame, cpu)
    return {
        **figures,
        **usage_per_turn(usages),
        "build_s": build_s,
        "index_warm_s": warm_s,
        "checkpoint_bytes_per_turn": growth,
    }


def checkpoint_bytes(path: Path) -> int:
    """Bytes of checkpoint data stored in a SQLite checkpointer file (checkpoints and writes)."""
    if not path.exists():
        return 0
    with closing(sqlite3.connect(path)) as db:
        (stored,) = db.execute(
            "SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM checkpoints"
        ).fetchone()
        (written,) = db.execute("SELECT coalesce(sum(length(value)), 0) FROM writes").fetchone()
    return int(stored) + int(written)


class _StepState(MessagesState):
    step: int


async def bare_turns(turns: int, warmup: int, root: Path, steps: int = 1) -> dict[str, float]:
    """The same measurement for a bare LangGraph graph calling the same model.

    With ``steps`` > 1, that many nodes run in a chain (the first ones only write a small
    field, the last calls the model): the cost of LangGraph's steps and checkpoints alone, for
    as many steps as a confidante chat turn's nodes in sequence (recall, route, respond,
    remember).
    """
    clock = Clock()
    model = TimedModel(clock=clock)

    async def chat(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    async def step(state: _StepState) -> dict[str, Any]:
        return {"step": state.get("step", 0) + 1}

    graph = StateGraph(_StepState)
    names = [f"step{index}" for index in range(1, steps)] + ["chat"]
    for name in names:
        graph.add_node(name, chat if name == "chat" else step)
    for source, target in zip([START, *names], [*names, END], strict=True):
        graph.add_edge(source, target)
    async with AsyncSqliteSaver.from_conn_string(str(root / f"bare-{steps}.db")) as saver:
        compiled = graph.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "bare"}}
        wall, spent, frame, cpu = [], [], [], []
        for index, text in enumerate(messages_for(turns + warmup)):
            clock.reset()
            started, cpu_started = time.perf_counter(), time.process_time()
            await compiled.ainvoke(
                {"messages": [HumanMessage(text)]},  # type: ignore[arg-type]
                config=config,
                durability="async",  # as the agent's turns
            )
            elapsed = time.perf_counter() - started
            if index >= warmup:
                wall.append(elapsed * 1000)
                spent.append(clock.model * 1000)
                frame.append((elapsed - clock.busy()) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
    return summarise(wall, spent, [0.0] * len(wall), frame, cpu)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="confidante-turn-cost-"))
    result: dict[str, Any] = {"turns": args.turns}
    bare = await bare_turns(args.turns, args.warmup, root)
    result.update({f"bare_{key}": value for key, value in bare.items() if "embedding" not in key})
    chained = await bare_turns(args.turns, args.warmup, root, steps=CHAT_STEPS)
    result[f"bare_{CHAT_STEPS}_steps_p50_ms"] = chained["p50_ms"]
    result[f"bare_{CHAT_STEPS}_steps_cpu_p50_ms"] = chained["cpu_p50_ms"]
    for n in args.sizes:
        figures = await agent_turns(n, args.turns, args.warmup, root)
        name = label(n)
        for key, value in figures.items():
            base, _, unit = key.rpartition("_")
            result[f"{base}_{unit}_{name}" if base else f"{key}_{name}"] = value
        result[f"ratio_vs_bare_{name}"] = figures["p50_ms"] / max(bare["p50_ms"], 1e-9)
        result[f"ratio_vs_bare_{CHAT_STEPS}_steps_{name}"] = figures["p50_ms"] / max(
            chained["p50_ms"], 1e-9
        )
        result[f"cpu_ratio_vs_bare_{name}"] = figures["cpu_p50_ms"] / max(bare["cpu_p50_ms"], 1e-9)
    result.update(await prompt_tokens_from_args(root, args))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="memories per run, comma-separated")
    parser.add_argument("--turns", type=int, default=60, help="measured turns per size")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--history", type=int, default=200, help="memories of chatter (tokens)")
    add_arguments(parser)  # the prompt-token measurement's options
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    result = asyncio.run(main_async(args))
    report(result, "turn cost (scripted model)", args.json)


if __name__ == "__main__":
    sys.exit(main())
