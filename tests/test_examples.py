"""Every program in examples/ runs as it is (on the scripted model) and exits cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(example: Path, cli_env: dict[str, str], tmp_path: Path) -> None:
    """Each example runs, and writes nothing into the user's data directory.

    ``cli_env``'s ``CONFIDANTE_DATA_DIR`` stands for the user's own data: an example keeps its
    data in a temporary directory unless it is given one.
    """
    users_data = Path(cli_env["CONFIDANTE_DATA_DIR"])
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
    written = sorted(str(p.relative_to(users_data)) for p in users_data.rglob("*") if p.is_file())
    assert not written, f"{example.name} wrote into the user's data directory: {written[:5]}"


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
