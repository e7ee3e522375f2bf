"""``confidante keys`` and ``confidante serve`` as commands (subprocesses, real processes).

The multi-worker test starts ``confidante serve --workers 2`` on a fresh PostgreSQL database
(both workers create the schema at once) and checks that what one worker writes the other
reads, and that keys made by the command work in the server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import fresh_postgres_database
from server_support import live_server, server_settings

CONFIDANTE = str(Path(sys.executable).with_name("confidante"))
ADMIN = "cli-admin-key-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def serving(env: dict[str, str], *options: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    process = subprocess.Popen(
        [CONFIDANTE, "serve", "--port", str(port), "--log-level", "warning", *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"confidante serve exited: {error[-3000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("confidante serve did not answer within 180 s")
            time.sleep(0.25)
        yield url, process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_keys_command_prints_a_working_key_once(cli_env: dict[str, str], tmp_path: Path) -> None:
    made = subprocess.run(
        [CONFIDANTE, "keys", "create", "--user", "ana", "--name", "phone"],
        env=cli_env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = made.stdout.strip()
    assert key.startswith("cft_") and "\n" not in key
    assert "not shown again" in made.stderr
    listed = subprocess.run(
        [CONFIDANTE, "keys", "list", "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert key not in listed.stdout and '"user": "ana"' in listed.stdout
    settings = server_settings(
        tmp_path, data_dir=Path(cli_env["CONFIDANTE_DATA_DIR"]), admin_key=None
    )
    with live_server(tmp_path, settings=settings) as server:  # same database as the command
        url = server.url
        headers = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{url}/v1/memories", headers=headers).json() == {
            "object": "list",
            "data": [],
        }
        key_id = listed.stdout.split('"id": "', 1)[1].split('"', 1)[0]
        table = subprocess.run(
            [CONFIDANTE, "keys", "list"], env=cli_env, capture_output=True, text=True, check=True
        )
        assert key_id[:12] in table.stdout
        revoked = subprocess.run(  # the id as the table shows it
            [CONFIDANTE, "keys", "revoke", key_id[:12]], env=cli_env, capture_output=True, text=True
        )
        assert revoked.returncode == 0, revoked.stderr
        assert revoked.stdout.strip() == f"revoked {key_id} (ana)"
        assert httpx.get(f"{url}/v1/memories", headers=headers).status_code == 401
    bad = subprocess.run(
        [CONFIDANTE, "keys", "create", "--user", " "], env=cli_env, capture_output=True, text=True
    )
    assert bad.returncode == 1 and "user_id" in bad.stderr


def test_serve_on_a_busy_port_fails_before_starting(cli_env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [CONFIDANTE, "serve", "--port", str(port)],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "serving on" not in result.stderr and "startup complete" not in result.stderr


@pytest.mark.slow
def test_two_workers_on_postgresql(
    cli_env: dict[str, str], postgres_admin_url: str, tmp_path: Path
) -> None:
    with fresh_postgres_database(postgres_admin_url) as database_url:
        env = {
            **cli_env,
            "CONFIDANTE_DATABASE_URL": database_url,
            "CONFIDANTE_ADMIN_KEY": ADMIN,
            # six requests of one key at once: over the default per-key limit of a worker (4)
            "CONFIDANTE_MAX_CONCURRENT_PER_KEY": "16",
        }
        with serving(env, "--workers", "2", "--log-level", "info") as (url, process):
            workers = _children(process.pid)
            assert len([pid for pid in workers if _is_python(pid)]) >= 2, workers
            admin = {"Authorization": f"Bearer {ADMIN}"}
            made = httpx.post(f"{url}/v1/admin/keys", json={"user": "pat"}, headers=admin)
            key = made.json()["key"]
            headers = {"Authorization": f"Bearer {key}"}
            facts = [f"Pat's favourite number {n} is lucky." for n in range(12)]

            def remember(text: str) -> int:
                with httpx.Client(timeout=120) as client:  # a new connection per request
                    response = client.post(
                        f"{url}/v1/memories", json={"text": text}, headers=headers
                    )
                return response.status_code

            with ThreadPoolExecutor(6) as pool:
                assert set(pool.map(remember, facts)) == {201}

            def search(_: int) -> list[str]:
                with httpx.Client(timeout=120) as client:
                    response = client.get(
                        f"{url}/v1/memories", params={"query": "number 7"}, headers=headers
                    )
                return [item["text"] for item in response.json()["data"]]

            with ThreadPoolExecutor(4) as pool:
                for found in pool.map(search, range(8)):  # spread over both workers
                    assert "Pat's favourite number 7 is lucky." in found
            listed = httpx.get(f"{url}/v1/memories", headers=headers, timeout=60).json()["data"]
            assert sorted(item["text"] for item in listed) == sorted(facts)
        log = process.stderr.read().decode() if process.stderr else ""
        # both workers prepared the fresh database at once and started, none died
        assert log.count("Application startup complete") == 2, log[-3000:]
        assert "Traceback" not in log, log[-3000:]


def _is_python(pid: int) -> bool:
    try:
        return "python" in os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False
