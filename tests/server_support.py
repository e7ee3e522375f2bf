"""Helpers of the HTTP server tests: a real uvicorn server on loopback with the scripted model."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from confidante.memory.storage.database import Database
from confidante.models.scripted import ScriptedChatModel
from confidante.server import ServerSettings, create_app, running_server
from confidante.server.keys import KeyStore, api_keys, hash_key

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

    def plant_old_key(self, user: str) -> str:
        """Write a key for ``user`` straight into the key table, as an older version could.

        The key API refuses reserved owners (``@global``...); a key left from before it did
        must be refused where it is used. Returns the secret.
        """
        secret = "cft_" + uuid.uuid4().hex
        store = KeyStore(Database.open(f"sqlite:///{self.settings.data_dir / 'confidante.db'}"))
        try:
            with store.database.engine.begin() as connection:
                connection.execute(
                    api_keys.insert().values(
                        id=uuid.uuid4().hex,
                        user_id=user,
                        name="old",
                        prefix=secret[:12],
                        key_hash=hash_key(secret),
                        created_at=datetime.now(UTC),
                    )
                )
        finally:
            store.database.dispose()
        return secret


class GatedModel(ScriptedChatModel):
    """The scripted model; while ``gate`` is clear, a streamed reply stops after its first word."""

    gate: Any = None
    finished: bool = False

    async def _astream_text(self, payload: dict[str, Any]) -> AsyncIterator[str]:
        first = True
        async for piece in super()._astream_text(payload):
            yield piece
            if first:
                first = False
                await asyncio.to_thread(self.gate.wait, 60)
        self.finished = True


@contextmanager
def live_server(root: Path, **kwargs: Any) -> Iterator[LiveServer]:
    """Start the real server (uvicorn, loopback, free port) for the block."""
    settings = kwargs.pop("settings", None) or server_settings(root)
    with running_server(create_app(settings, **kwargs)) as url:
        yield LiveServer(url, settings)
