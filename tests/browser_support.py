"""Helpers of the browser tests: Debian's Chromium (never a Playwright download), or a skip."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CONFIDANTE_TEST_CHROMIUM", "/usr/bin/chromium")


def chromium_path() -> str:
    """Return Chromium's executable; skip the test without one (fail it on CI)."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() in {"true", "1", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
