"""Acceptance on the real embedded model: facts told in one process are recalled in the next."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def chat(user: str, text: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "confidante.cli", "chat", "--user", user],
        input=text + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_cross_session_recall_with_the_local_model(
    cli_env: dict[str, str], bundled_gguf: Path
) -> None:
    env = {**cli_env, "CONFIDANTE_MODEL": "local", "CONFIDANTE_MODEL_PATH": str(bundled_gguf)}
    chat("u1", "My dog is called Biscuit and I live in Lisbon.", env)
    assert "Biscuit" in chat("u1", "What is my dog called?", env)
    assert "Biscuit" not in chat("u2", "What is my dog called?", env)
