"""One key cannot starve the others: import cap, per-key rate and concurrency limits (429).

The latency test is the one timing assertion of the server tests, as issue 20 asks: another
user's search stays within 3x its quiet p95 (plus half a second of scheduling slack) while a
key imports at its limits. It is a ratio measured in the same test, on the same machine.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_support import ADMIN_KEY, live_server, server_settings
from starlette.types import Receive, Scope, Send

from confidante.server.limits import KeyLimitMiddleware


def _export(count: int, tag: str) -> dict[str, Any]:
    stamp = "2026-01-01T00:00:00+00:00"
    items = [
        {
            "id": f"{number:032x}",
            "text": f"Note {tag}-{number}: the market in town {number % 40} opened late.",
            "key": None,
            "kind": "fact",
            "importance": 0.5,
            "provenance": [],
            "attributes": {},
            "created_at": stamp,
            "valid_from": stamp,
            "valid_to": None,
        }
        for number in range(count)
    ]
    return {"format": "confidante.memory", "version": 1, "user_id": "someone", "items": items}


def test_an_import_over_the_item_cap_answers_413_saying_how_to_split(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, max_import_items=5)
    with (
        live_server(tmp_path, settings=settings) as server,
        server.client(server.key_for("ana")) as ana,
    ):
        refused = ana.post("/v1/memories/import", json=_export(6, "big"))
        assert refused.status_code == 413
        error = refused.json()["error"]
        assert error["code"] == "too_many_items" and error["param"] == "items"
        assert "6 items" in error["message"] and "at most 5" in error["message"]
        assert "CONFIDANTE_MAX_IMPORT_ITEMS" in error["message"]
        assert ana.get("/v1/memories").json()["data"] == []  # nothing was written

        accepted = ana.post("/v1/memories/import", json=_export(5, "small"))
        assert accepted.status_code == 201 and accepted.json()["imported"] == 5


def test_a_key_over_its_rate_gets_429_with_retry_after_and_others_do_not(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, rate_limit_per_minute=3)
    with live_server(tmp_path, settings=settings) as server:
        ana_key, bob_key = server.key_for("ana"), server.key_for("bob")
        with server.client(ana_key) as ana, server.client(bob_key) as bob:
            assert [ana.get("/v1/memories").status_code for _ in range(3)] == [200] * 3
            refused = ana.get("/v1/memories")
            assert refused.status_code == 429
            assert 1 <= int(refused.headers["Retry-After"]) <= 60
            error = refused.json()["error"]
            assert error["type"] == "rate_limit_error" and error["code"] == "rate_limited"
            assert "CONFIDANTE_RATE_LIMIT_PER_MINUTE" in error["message"]
            assert bob.get("/v1/memories").status_code == 200  # another key has its own count
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        for _ in range(5):  # the admin API is exempt
            assert httpx.get(f"{server.url}/v1/admin/keys", headers=admin).status_code == 200


def test_a_key_over_its_concurrency_gets_429_until_a_request_finishes() -> None:
    release = asyncio.Event()

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/slow":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def scenario() -> None:
        app = KeyLimitMiddleware(slow_app, per_minute=0, concurrent=2)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ana = {"Authorization": "Bearer key-of-ana"}
            bob = {"Authorization": "Bearer key-of-bob"}
            held = [asyncio.create_task(client.get("/slow", headers=ana)) for _ in range(2)]
            while sum(app.active.values()) < 2:
                await asyncio.sleep(0.01)
            refused = await client.get("/fast", headers=ana)
            assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
            error = refused.json()["error"]
            assert error["code"] == "too_many_concurrent_requests"
            assert "CONFIDANTE_MAX_CONCURRENT_PER_KEY" in error["message"]
            assert (await client.get("/fast", headers=bob)).status_code == 200
            assert (await client.get("/fast")).status_code == 200  # no key: not counted
            release.set()
            assert [(await task).status_code for task in held] == [200, 200]
            assert (await client.get("/fast", headers=ana)).status_code == 200
            assert app.active == {}

    asyncio.run(scenario())


def _p95(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return ordered[round(0.95 * (len(ordered) - 1))]


@pytest.mark.slow
def test_searches_stay_fast_while_another_key_imports_at_its_limits(tmp_path: Path) -> None:
    cap, importers = 250, 2
    settings = server_settings(tmp_path, max_import_items=cap, max_concurrent_per_key=importers)
    with live_server(tmp_path, settings=settings) as server:
        ana_key, bob_key = server.key_for("ana"), server.key_for("bob")
        with server.client(bob_key) as bob:
            for number in range(20):
                bob.post("/v1/memories", json={"text": f"Bob collects stamps from {number}."})

            def searches(count: int) -> list[float]:
                took = []
                for number in range(count):
                    start = time.perf_counter()
                    found = bob.get("/v1/memories", params={"query": f"stamps {number}"})
                    took.append(time.perf_counter() - start)
                    assert found.status_code == 200
                return took

            searches(3)  # warm up
            quiet = _p95(searches(30))
            stop = threading.Event()
            statuses: list[int] = []

            def import_until_stopped(worker: int) -> None:
                with server.client(ana_key) as ana:
                    round_ = 0
                    while not stop.is_set():
                        document = _export(cap, f"{worker}-{round_}")
                        statuses.append(ana.post("/v1/memories/import", json=document).status_code)
                        round_ += 1

            threads = [
                threading.Thread(target=import_until_stopped, args=(worker,))
                for worker in range(importers)
            ]
            for thread in threads:
                thread.start()
            time.sleep(1.0)  # both imports are embedding
            busy = _p95(searches(30))
            stop.set()
            for thread in threads:
                thread.join()
    assert statuses and set(statuses) == {201}
    # 3x as the issue asks, with half a second for a loaded machine's scheduling (CI shares
    # its cores); the starvation this guards against took the p95 from 0.035 s to 5.9 s
    allowed = max(3 * quiet, quiet + 0.5)
    assert busy <= allowed, f"search p95 {busy:.3f} s while importing, {quiet:.3f} s quiet"
