"""Every program in examples/ runs as it is (on the scripted model) and exits cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(example: Path, cli_env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(example)],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()


def test_quickstart_recalls_across_sessions(cli_env: dict[str, str], tmp_path: Path) -> None:
    example = EXAMPLES[0].parent / "quickstart.py"
    result = subprocess.run(
        [sys.executable, str(example)], env=cli_env, cwd=tmp_path, capture_output=True, text=True
    )
    assert "Marta" in result.stdout.split("reply:", 1)[1]


def test_memory_basics_output(tmp_path: Path, cli_env: dict[str, str]) -> None:
    example = EXAMPLES[0].parent / "memory_basics.py"
    result = subprocess.run(
        [sys.executable, str(example), str(tmp_path / "m.db")],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert "now: ['Ana lives in Porto.']" in result.stdout
    assert 'bob: ["Bob\'s dog is called Rex."]' in result.stdout
