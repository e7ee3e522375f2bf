"""Helpers of the HTTP server tests: a real uvicorn server on loopback with the scripted model."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from confidante.server import ServerSettings, create_app, running_server

ADMIN_KEY = "test-admin-key-0123456789"


def server_settings(root: Path, **overrides: Any) -> ServerSettings:
    """Settings isolated from the environment: scripted model, data under ``root``."""
    values: dict[str, Any] = {
        "config_file": root / "absent.toml",
        "data_dir": root / "data",
        "cache_dir": root / "cache",
        "model": "scripted",
        "database_url": None,
        "admin_key": ADMIN_KEY,
        **overrides,
    }
    return ServerSettings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class LiveServer:
    """A running server: its base URL and a way to make users' keys."""

    url: str
    settings: ServerSettings

    def key_for(self, user: str) -> str:
        response = httpx.post(
            f"{self.url}/v1/admin/keys",
            json={"user": user},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
        response.raise_for_status()
        return str(response.json()["key"])

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        )


@contextmanager
def live_server(root: Path, **kwargs: Any) -> Iterator[LiveServer]:
    """Start the real server (uvicorn, loopback, free port) for the block."""
    settings = kwargs.pop("settings", None) or server_settings(root)
    with running_server(create_app(settings, **kwargs)) as url:
        yield LiveServer(url, settings)
