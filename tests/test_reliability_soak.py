"""The soak benchmark runs end to end on tiny sizes and reports nothing lost or leaked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import load_benchmark


@pytest.mark.slow
def test_quick_soak_reports_zero_losses(tmp_path: Path) -> None:
    soak = load_benchmark("soak.py", "soak")
    out = tmp_path / "soak.json"
    results = soak.main(["--quick", "--backends", "sqlite", "--json", str(out)])
    assert results["ok"], results
    saved = json.loads(out.read_text())
    (writers, baseline) = saved["concurrency"]
    assert writers["committed"] == 2 * 10 and writers["lost"] == 0
    assert baseline["processes"] == 1 and writers["speedup_vs_one_process"] > 0
    assert saved["crash"]["kills"] == 2 and saved["crash"]["lost"] == 0
    assert saved["model_faults"]["turns"] == 12 and saved["model_faults"]["crashed"] == 0
    assert saved["bad_input"]["inputs"] == 100 and saved["bad_input"]["crashed"] == 0
