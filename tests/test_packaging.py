"""The package's public face and its layout (folders mapped into one ``confidante`` package)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import confidante


def test_public_names() -> None:
    assert sorted(confidante.__all__) == sorted(
        [
            "Agent",
            "ConfidanteError",
            "ConfigurationError",
            "InvalidInputError",
            "Memory",
            "MemoryHit",
            "ModelError",
            "ModelNotAvailableError",
            "NotFoundError",
            "SecretRefusedError",
            "Settings",
            "StructuredOutputError",
            "TurnResult",
            "__version__",
        ]
    )
    for name in confidante.__all__:
        assert getattr(confidante, name) is not None


def test_subpackages_come_from_the_repo_folders() -> None:
    import confidante.graphs
    import confidante.memory
    import confidante.tools

    root = Path(__file__).resolve().parents[1]
    assert Path(confidante.__file__).parent == root / "agent"
    assert Path(confidante.memory.__file__).parent == root / "memory"
    assert Path(confidante.graphs.__file__).parent == root / "graphs"
    assert Path(confidante.tools.__file__).parent == root / "tools"
    assert (root / "agent" / "py.typed").is_file()


def test_an_application_module_named_tools_or_agent_does_not_shadow_ours(tmp_path: Path) -> None:
    (tmp_path / "tools.py").write_text(
        "raise SystemExit('the application tools.py was imported')\n"
    )
    (tmp_path / "agent.py").write_text(
        "raise SystemExit('the application agent.py was imported')\n"
    )
    (tmp_path / "memory.py").write_text(
        "raise SystemExit('the application memory.py was imported')\n"
    )
    code = (
        "import confidante.tools.memory_tools, confidante.memory.store, confidante.agent\n"
        "print('ours')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ours"


def test_import_is_light() -> None:
    code = "import sys, confidante; print('torch' in sys.modules, 'langgraph' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["False", "False"]
