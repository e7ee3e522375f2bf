"""HTTP load test: many concurrent clients against a real ``confidante serve`` process.

Starts ``confidante serve`` (scripted model, throw-away data directory, SQLite unless
``--database-url``) in a subprocess, gives each client its own user and key with a few
memories, then for each scenario runs ``--clients`` concurrent clients for ``--seconds``:

- ``models``: ``GET /v1/models`` (authentication + HTTP, the floor of every request);
- ``search``: ``GET /v1/memories?query=...`` (a retrieval);
- ``chat``: ``POST /v1/chat/completions`` (a full graph turn: recall, respond, remember);
- baseline ``agent_in_process``: the same turns through ``Agent.aturn`` in this process, same
  concurrency, no HTTP. ``chat / agent_in_process`` (p50) is what serving over HTTP costs.

Reports requests, errors, requests/s and latency p50/p95/p99 per scenario. The scripted model
answers instantly, so the figures measure the server and the framework, not a language model.

Usage: ``python benchmarks/http_load.py [--clients 50] [--seconds 5] [--workers 1] [--json OUT]``
(``--seconds 60`` for the long version).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import asyncio
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

ADMIN_KEY = "load-test-admin-key"
CONFIDANTE = str(Path(sys.executable).with_name("confidante"))
FACTS = [
    "My dog is called Biscuit.",
    "I live in Lisbon.",
    "I work at the city library.",
    "I love climbing.",
]
QUESTIONS = ["What is my dog called?", "Where do I live?", "Where do I work?"]


@dataclass
class Result:
    """What one scenario measured."""

    scenario: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        """Return the figures (no raw latencies)."""
        values = np.asarray(self.latencies_ms or [float("nan")])
        return {
            "scenario": self.scenario,
            "requests": self.requests,
            "errors": self.errors,
            "requests_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(float(np.percentile(values, 50)), 1),
            "p95_ms": round(float(np.percentile(values, 95)), 1),
            "p99_ms": round(float(np.percentile(values, 99)), 1),
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``confidante serve`` and wait until it answers; returns the process and URL."""
    port = _free_port()
    process = subprocess.Popen(
        [
            CONFIDANTE,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("confidante serve exited during start-up")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    process.kill()
    raise SystemExit("confidante serve did not start within 180 s")


async def run_clients(
    name: str, clients: int, seconds: float, call: Callable[[int], Awaitable[bool]]
) -> Result:
    """Run ``clients`` loops of ``call(client_index)`` for ``seconds``; time every call."""
    result = Result(name)
    stop = time.perf_counter() + seconds

    async def loop(index: int) -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            try:
                ok = await call(index)
            except Exception:  # noqa: BLE001 - every failure is counted, none stops the run
                ok = False
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            result.requests += 1
            result.errors += 0 if ok else 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(index) for index in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


async def http_scenarios(url: str, keys: list[str], seconds: float) -> list[Result]:
    """Run the three HTTP scenarios, one after the other."""
    limits = httpx.Limits(max_connections=len(keys) + 10)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:

        def auth(index: int) -> dict[str, str]:
            return {"Authorization": f"Bearer {keys[index]}"}

        async def models(index: int) -> bool:
            return (await http.get("/v1/models", headers=auth(index))).status_code == 200

        async def search(index: int) -> bool:
            params = {"query": QUESTIONS[index % len(QUESTIONS)], "k": 5}
            response = await http.get("/v1/memories", params=params, headers=auth(index))
            return response.status_code == 200 and bool(response.json()["data"])

        async def chat(index: int) -> bool:
            body = {
                "model": "confidante",
                "messages": [{"role": "user", "content": QUESTIONS[index % len(QUESTIONS)]}],
            }
            headers = {**auth(index), "X-Session-Id": f"load-{index}"}
            response = await http.post("/v1/chat/completions", json=body, headers=headers)
            return response.status_code == 200

        results = []
        for name, call in (("models", models), ("search", search), ("chat", chat)):
            results.append(await run_clients(name, len(keys), seconds, call))
        return results


async def setup_users(url: str, clients: int) -> list[str]:
    """Make one user and key per client, each with a few memories."""
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        keys = []
        for index in range(clients):
            made = await http.post("/v1/admin/keys", json={"user": f"load-{index}"}, headers=admin)
            made.raise_for_status()
            keys.append(made.json()["key"])
        for key in keys:
            for fact in FACTS:
                response = await http.post(
                    "/v1/memories", json={"text": fact}, headers={"Authorization": f"Bearer {key}"}
                )
                response.raise_for_status()
        return keys


async def in_process_baseline(
    data_dir: Path, clients: int, seconds: float, database_url: str | None
) -> Result:
    """The same chat turns through ``Agent.aturn`` in this process, same database, no HTTP."""
    from confidante.agent import Agent
    from confidante.memory.store import Memory
    from confidante.models.scripted import ScriptedChatModel
    from confidante.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        model="scripted",
        config_file=data_dir / "absent.toml",
    )
    memory = Memory.open(settings=settings)
    model = ScriptedChatModel()
    agents = [
        Agent(f"base-{index}", settings=settings, memory=memory, model=model)
        for index in range(clients)
    ]
    for agent in agents:
        for fact in FACTS:
            await memory.aremember(agent.user_id, fact)

    async def turn(index: int) -> bool:
        result = await agents[index].aturn(QUESTIONS[index % len(QUESTIONS)])
        return bool(result.reply)

    try:
        return await run_clients("agent_in_process", clients, seconds, turn)
    finally:
        for agent in agents:
            await agent.aclose()
        memory.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the load test and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each scenario")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--database-url", help="memory database (default: a SQLite file)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDANTE_")}
        env.update(
            CONFIDANTE_DATA_DIR=str(root / "server"),
            CONFIDANTE_CACHE_DIR=str(root / "cache"),
            CONFIDANTE_CONFIG_FILE=str(root / "absent.toml"),
            CONFIDANTE_MODEL="scripted",
            CONFIDANTE_ADMIN_KEY=ADMIN_KEY,
            # the load is the measurement: per-key request limits would answer 429 instead
            CONFIDANTE_RATE_LIMIT_PER_MINUTE="0",
            CONFIDANTE_MAX_CONCURRENT_PER_KEY="0",
        )
        if args.database_url:
            env["CONFIDANTE_DATABASE_URL"] = args.database_url
        process, url = start_server(env, args.workers)
        try:
            keys = asyncio.run(setup_users(url, args.clients))
            results = asyncio.run(http_scenarios(url, keys, args.seconds))
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
        results.append(
            asyncio.run(
                in_process_baseline(root / "base", args.clients, args.seconds, args.database_url)
            )
        )
    figures = [result.summary() for result in results]
    by_name = {figure["scenario"]: figure for figure in figures}
    ratio = by_name["chat"]["p50_ms"] / max(by_name["agent_in_process"]["p50_ms"], 1e-9)
    table = Table(
        "scenario",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        title=f"HTTP load: {args.clients} clients, {args.seconds:g} s per scenario, "
        f"{args.workers} worker(s)",
    )
    for figure in figures:
        table.add_row(
            *(
                str(figure[key])
                for key in (
                    "scenario",
                    "requests",
                    "errors",
                    "requests_per_s",
                    "p50_ms",
                    "p95_ms",
                    "p99_ms",
                )
            )
        )
    console.print(table)
    console.print(f"chat over HTTP / in-process turn (p50): {ratio:.2f}x")
    if args.json:
        report = {
            "clients": args.clients,
            "seconds": args.seconds,
            "workers": args.workers,
            "database": "postgresql" if args.database_url else "sqlite",
            "scenarios": figures,
            "ratio_chat_http_vs_in_process_p50": round(ratio, 2),
        }
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
        console.print(f"figures written to {args.json}")
    return 1 if any(figure["errors"] for figure in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
