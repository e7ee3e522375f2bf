"""The public face of ``confidante.integrations``: lazy names, no optional import up front."""

from __future__ import annotations

import subprocess
import sys

import pytest

import confidante.integrations as integrations


def test_public_names_resolve() -> None:
    assert sorted(integrations.__all__) == [
        "ConfidanteStore",
        "LlamaIndexVectorIndex",
        "build_mcp_server",
        "convert_export",
        "mem0_to_export",
        "user_at",
    ]
    for name in integrations.__all__:
        assert getattr(integrations, name).__name__ == name
    with pytest.raises(AttributeError):
        _ = integrations.nothing_here


def test_importing_the_package_loads_no_optional_dependency() -> None:
    code = (
        "import sys, confidante.integrations\n"
        "optional = ('mcp', 'llama_index.vector_stores.postgres')\n"
        "print(sorted(m for m in optional if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
