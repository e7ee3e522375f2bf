"""Schemathesis fuzzes the real server from its OpenAPI document: no answer may be a 5xx.

Two bounded passes (about 45 s together): every user route with a user's key, then the admin
routes with the admin key. The approval routes answer 501 by design while the agent has no
``apending``/``aresume``; they are fuzzed as soon as it has them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from server_support import ADMIN_KEY, live_server

from confidante.agent import Agent

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def _fuzz(
    url: str, key: str, seconds: int, cwd: Path, *filters: str
) -> subprocess.CompletedProcess[str]:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--header",
        f"Authorization: Bearer {key}",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-time",
        str(seconds),
        "--max-examples",
        "40",
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--seed",
        "20261122",
        "--no-color",
        *filters,
    ]
    env = {**os.environ, "SCHEMATHESIS_TELEMETRY": "false"}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 90, env=env, cwd=cwd
    )


@pytest.mark.slow
def test_fuzzing_the_openapi_document_finds_no_server_error(tmp_path: Path) -> None:
    if not SCHEMATHESIS.exists():
        pytest.fail("schemathesis is not installed (pip install -e '.[dev]')")
    with live_server(tmp_path) as server:
        key = server.key_for("fuzzer")
        skipped = "^/v1/admin" if hasattr(Agent, "apending") else "^/v1/(admin|approvals)"
        runs = [
            _fuzz(server.url, key, 30, tmp_path, "--exclude-path-regex", skipped),
            _fuzz(server.url, ADMIN_KEY, 12, tmp_path, "--include-path-regex", "^/v1/admin"),
        ]
    for run in runs:
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
        assert " passed" in run.stdout and "Authentication failed" not in run.stdout
