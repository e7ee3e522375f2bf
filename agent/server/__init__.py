"""The HTTP server: an OpenAI-compatible chat API with per-user keys, a memory API, a web chat.

::

    from confidante.server import ServerSettings, create_app, running_server

    app = create_app(ServerSettings(model="scripted"))
    with running_server(app) as base_url:   # a real uvicorn server on a free loopback port
        ...

Run it with ``confidante serve`` (needs ``pip install 'confidante[server]'``). Names are
imported on first use, so :mod:`confidante.server.keys` works without FastAPI installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from confidante._lazy import lazy_getattr

if TYPE_CHECKING:
    from confidante.server.app import app_from_environment, create_app
    from confidante.server.keys import ApiKeyInfo, KeyStore
    from confidante.server.registry import SERVER_TOOL_FACTORIES, ToolFactory
    from confidante.server.runner import running_server
    from confidante.server.settings import ServerSettings

_LAZY = {
    "app_from_environment": "confidante.server.app",
    "create_app": "confidante.server.app",
    "ApiKeyInfo": "confidante.server.keys",
    "KeyStore": "confidante.server.keys",
    "SERVER_TOOL_FACTORIES": "confidante.server.registry",
    "ToolFactory": "confidante.server.registry",
    "running_server": "confidante.server.runner",
    "ServerSettings": "confidante.server.settings",
}


__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "SERVER_TOOL_FACTORIES",
    "ApiKeyInfo",
    "KeyStore",
    "ServerSettings",
    "ToolFactory",
    "app_from_environment",
    "create_app",
    "running_server",
]
