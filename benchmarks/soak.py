"""Soak test of confidante's reliability: the long versions of ``tests/test_reliability_*``.

Four parts, each reporting what it did and what went wrong (every "lost", "leaked" or
"crashed" figure must be 0):

- **concurrency**: ``--processes`` writer processes × ``--items`` remembers for overlapping
  users into one SQLite file and one PostgreSQL database, with reader processes checking
  isolation during the writes; the same items from one process are the baseline (items/s
  ratio). Writers and readers are ``tests/workers/*.py``.
- **crash**: ``--crash-rounds`` writers SIGKILLed after a random number of commits on one
  SQLite file; every committed item must survive and none be half-written.
- **model faults**: ``--fault-turns`` agent turns on the scripted model with injected faults
  (timeout, invalid JSON, unknown tool, empty reply, raw tool call); each turn must end with a
  reply, store the raw turn and record the failure.
- **bad input**: ``--fuzz-inputs`` random hostile values given to ``remember``: each must be
  stored verbatim or refused with a ``confidante.errors`` error, never crash.

Usage::

    .venv/bin/python benchmarks/soak.py --json soak.json             # full: 8 x 500
    .venv/bin/python benchmarks/soak.py --quick --backends sqlite    # a smoke run
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "workers")]

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from workers.common import HashEmbedder  # noqa: E402
from workers.concurrency import run_concurrency  # noqa: E402

from confidante.errors import ConfidanteError  # noqa: E402
from confidante.memory.store import Memory  # noqa: E402

DEFAULT_POSTGRES = os.environ.get(
    "CONFIDANTE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def soak_concurrency(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Run the concurrent writers on each backend, and the one-process baseline."""
    rows = []
    for backend in args.backends:
        for processes, items, readers in (
            (args.processes, args.items, args.readers),
            (1, args.processes * args.items, 0),
        ):
            tag = f"{backend}-{processes}p"
            if backend == "sqlite":
                report = run_concurrency(
                    str(work / f"{tag}.db"),
                    processes=processes,
                    items=items,
                    users=args.users,
                    readers=readers,
                    run_tag=tag,
                    stop_dir=work,
                )
            else:
                from conftest import fresh_postgres_database

                with fresh_postgres_database(args.postgres_url) as url:
                    report = run_concurrency(
                        url,
                        processes=processes,
                        items=items,
                        users=args.users,
                        readers=readers,
                        run_tag=tag,
                        stop_dir=work,
                    )
            row = report.as_dict()
            seconds = report.write_seconds or report.seconds
            row["items_per_second"] = report.committed / seconds if seconds else 0.0
            row["ok"] = report.ok
            row["errors"] = row["errors"][:5]
            rows.append(row)
        rows[-2]["speedup_vs_one_process"] = (
            rows[-2]["items_per_second"] / rows[-1]["items_per_second"]
            if rows[-1]["items_per_second"]
            else 0.0
        )
    return rows


def _audit_crash(database: Path, committed: set[str]) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        stored = {row[0] for row in connection.execute("SELECT id FROM concepts")}
        vectors = {row[0] for row in connection.execute("SELECT concept_id FROM concept_vectors")}
        added = {row[0] for row in connection.execute("SELECT concept_id FROM audit_log")}
        fts = connection.execute("SELECT count(*) FROM concepts_fts").fetchone()[0]
    return {
        "stored": len(stored),
        "lost": len(committed - stored),
        "half_written": len(stored ^ vectors) + len(stored ^ added) + abs(fts - len(stored)),
    }


def soak_crash(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """SIGKILL writers at random points; check what the database kept."""
    database = work / "crash.db"
    rng = random.Random(args.seed)
    committed: set[str] = set()
    for round_ in range(args.crash_rounds):
        command = [sys.executable, str(TESTS / "workers" / "remember_worker.py")]
        command += ["--url", str(database), "--worker", str(round_), "--items", "1000000"]
        command += ["--users", "crash-a,crash-b,crash-c", "--shared-every", "0"]
        writer = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        stop_after = rng.randint(1, args.crash_max_commits)
        assert writer.stdout is not None
        for count, line in enumerate(writer.stdout, 1):
            committed.add(line.split()[2])
            if count >= stop_after:
                break
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=60)
    audit = _audit_crash(database, committed)
    return {"kills": args.crash_rounds, "committed": len(committed), **audit}


FAULTS = ("ok", "timeout", "invalid_json", "unknown_tool", "empty", "tool_call")


def fault_function(current: dict[str, str]) -> Any:
    """Return a scripted-model function that injects the fault named by ``current["fault"]``."""
    from langchain_core.messages import AIMessage

    from confidante.errors import ModelError
    from confidante.models.scripted_rules import default_reply

    def answer(payload: dict[str, Any]) -> Any:
        fault = current["fault"]
        schema = ((payload.get("response_format") or {}).get("json_schema") or {}).get("name")
        if fault == "timeout":
            raise ModelError("request timed out")
        if fault == "empty":
            return ""
        if fault == "invalid_json" and schema:
            return '{"facts": [ {broken'
        if fault == "unknown_tool" and schema == "RouteDecision":
            return {"route": "task"}
        if fault == "unknown_tool" and schema == "Plan":
            return {"steps": [{"tool": "drop_everything", "arguments": {}}]}
        if fault == "tool_call" and schema is None:
            return AIMessage(content="", tool_calls=[{"name": "x", "args": {}, "id": "1"}])
        return default_reply(payload)

    return answer


def soak_model_faults(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Run agent turns with injected model faults and check each turn's outcome."""
    from confidante import Agent
    from confidante.models.scripted import ScriptedChatModel
    from confidante.settings import Settings

    current = {"fault": "ok"}
    logging.disable(logging.CRITICAL)  # the injected faults log a warning each
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        config_file=work / "absent.toml",
        data_dir=work / "agent-data",
        cache_dir=work / "agent-cache",
        model="scripted",
        database_url=None,
    )
    memory = Memory.open(settings=settings, embedder=HashEmbedder())
    model = ScriptedChatModel(function=fault_function(current))
    agents = {user: Agent(user, settings=settings, memory=memory, model=model) for user in "ab"}
    rng = random.Random(args.seed)
    counts = {"turns": 0, "faults": 0, "replied": 0, "stored": 0, "recorded": 0, "crashed": 0}
    for turn in range(args.fault_turns):
        fault = rng.choice(FAULTS)
        current["fault"] = fault
        user = "ab"[turn % 2]
        text = f"I live in City{turn} and my dog is called Dog{turn}."
        if fault == "unknown_tool":
            text = f"Remind me to do chore {turn}."
        counts["turns"] += 1
        counts["faults"] += fault != "ok"
        try:
            result = agents[user].turn(text)
        except Exception:  # noqa: BLE001 - counted: a turn must never raise
            counts["crashed"] += 1
            continue
        counts["replied"] += bool(result.reply)
        last = memory.events(user, role="user", limit=10_000)[-1]
        counts["stored"] += last.text == text
        if fault in ("timeout", "invalid_json", "empty"):
            counts["recorded"] += last.extraction == "failed" and bool(last.error)
        elif fault == "unknown_tool":
            counts["recorded"] += any(not outcome["ok"] for outcome in result.results)
        else:
            counts["recorded"] += last.extraction == "done"
    leaked = sum(
        1
        for user, other in (("a", "b"), ("b", "a"))
        for hit in memory.list_items(user)
        if any(hit.id == theirs.id for theirs in memory.list_items(other))
    )
    for agent in agents.values():
        agent.close()
    memory.close()
    logging.disable(logging.NOTSET)
    return {**counts, "cross_user_items": leaked}


def _hostile(rng: random.Random) -> Any:
    kind = rng.randrange(8)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    if kind == 1:
        raw = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        return raw.decode("utf-8", "surrogateescape")
    if kind == 2:
        return "".join(chr(rng.randrange(0, 0x250)) for _ in range(rng.randrange(0, 80)))
    if kind == 3:
        return "x" * rng.choice([0, 19_999, 20_000, 20_001, 1_000_000])
    if kind == 4:
        return rng.choice(["'; DROP TABLE concepts; --", '" OR 1=1 --', "NEAR(a b", "*", "a:b"])
    if kind == 5:
        return rng.choice([None, 0, 1.5, [], {}, b"", bytearray(b"\xff")])
    if kind == 6:
        return "".join(rng.choice(["\x00", "\x07", "\x1b", "\u202e", "\ufeff", "é"]) * 3)
    return " \t\n" * rng.randrange(4)


def soak_bad_input(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Give ``remember`` random hostile values: stored verbatim or refused, never a crash."""
    memory = Memory.open(work / "fuzz.db", embedder=HashEmbedder())
    rng = random.Random(args.seed)
    counts = {"inputs": 0, "stored": 0, "refused": 0, "crashed": 0, "misstored": 0}
    for _ in range(args.fuzz_inputs):
        value = _hostile(rng)
        counts["inputs"] += 1
        try:
            item_id = memory.remember("fuzz", value)
        except ConfidanteError:
            counts["refused"] += 1
            continue
        except Exception:  # noqa: BLE001 - counted: every refusal must be a ConfidanteError
            counts["crashed"] += 1
            continue
        counts["stored"] += 1
        counts["misstored"] += memory.get("fuzz", item_id).text != value.strip()
    counts["other_users_items"] = len(memory.list_items("someone-else"))
    memory.close()
    return counts


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the soak and print its tables; returns the results (also written with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--items", type=int, default=500, help="remembers per process")
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--crash-rounds", type=int, default=20)
    parser.add_argument("--crash-max-commits", type=int, default=200)
    parser.add_argument("--fault-turns", type=int, default=120)
    parser.add_argument("--fuzz-inputs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.processes, args.items, args.readers = 2, 10, 1
        args.crash_rounds, args.crash_max_commits = 2, 20
        args.fault_turns, args.fuzz_inputs = 12, 100
    args.backends = [b for b in args.backends.split(",") if b]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="confidante-soak-") as folder:
        work = Path(folder)
        results = {
            "concurrency": soak_concurrency(args, work),
            "crash": soak_crash(args, work),
            "model_faults": soak_model_faults(args, work),
            "bad_input": soak_bad_input(args, work),
        }
    results["settings"] = {k: v for k, v in vars(args).items() if k not in ("json",)}
    results["seconds"] = time.perf_counter() - started
    results["ok"] = _ok(results)
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return results


def _ok(results: dict[str, Any]) -> bool:
    crash, faults, fuzz = results["crash"], results["model_faults"], results["bad_input"]
    return (
        all(row["ok"] for row in results["concurrency"])
        and crash["lost"] == crash["half_written"] == 0
        and faults["crashed"] == faults["cross_user_items"] == 0
        and faults["replied"] == faults["stored"] == faults["recorded"] == faults["turns"]
        and fuzz["crashed"] == fuzz["misstored"] == fuzz["other_users_items"] == 0
    )


def _print(results: dict[str, Any]) -> None:
    console = Console(width=170)
    table = Table(title="concurrency (writers x items, readers checking isolation)")
    columns = ["backend", "processes", "committed", "rows", "lost", "duplicates", "wrong_user"]
    columns += ["foreign_reads", "reads", "seconds", "write_seconds", "items_per_second"]
    columns += ["speedup_vs_one_process", "ok"]
    for column in columns:
        table.add_column(column)
    for row in results["concurrency"]:
        cells = [row.get(column, "") for column in columns]
        table.add_row(*[f"{c:.1f}" if isinstance(c, float) else str(c) for c in cells])
    console.print(table)
    for part in ("crash", "model_faults", "bad_input"):
        small = Table(title=part.replace("_", " "))
        for key in results[part]:
            small.add_column(key)
        small.add_row(*[str(value) for value in results[part].values()])
        console.print(small)
    verdict = "OK" if results["ok"] else "FAILED"
    console.print(f"{verdict}: nothing lost, leaked or crashed ({results['seconds']:.0f} s)")


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
