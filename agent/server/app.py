"""The FastAPI application: :func:`create_app` builds it over settings (and optional parts).

Routes: ``/v1/chat/completions`` and ``/v1/models`` (OpenAI-compatible), ``/v1/chat/messages``
(a session's conversation), ``/v1/memories``, ``/v1/users/me``, ``/v1/tools``, ``/v1/approvals``,
``/v1/admin``; ``/openapi.json``; ``/healthz``; MCP's streamable HTTP transport at ``/mcp``
(the same keys and limits, see :mod:`confidante.server.mcp_http`); the web chat at ``/`` (its
icon also at ``/favicon.ico``). Interactive docs pages are off: they load scripts from a CDN,
and the server must work offline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from confidante import __version__
from confidante.agent import Agent
from confidante.integrations.mcp_server import mcp_extra_tools
from confidante.memory.store import Memory
from confidante.models import build_chat_model
from confidante.server import admin, chat, conversation, memories, tools_api, usage_api
from confidante.server.agents import AgentPool
from confidante.server.context import ServerContext
from confidante.server.errors import (
    BodyLimitMiddleware,
    CatchAllMiddleware,
    SecurityHeadersMiddleware,
    install_error_handlers,
)
from confidante.server.limits import KeyLimitMiddleware
from confidante.server.mcp_http import mcp_route, mcp_service, serving
from confidante.server.registry import registered_tools
from confidante.server.settings import ServerSettings
from confidante.server.startup import open_storage
from confidante.tools.memory_tools import memory_tools

STATIC_DIR = Path(str(files("confidante.server") / "static"))
#: The page loads nothing from elsewhere: scripts, styles and requests stay on this server.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def create_app(
    settings: ServerSettings | None = None,
    *,
    model: BaseChatModel | None = None,
    memory: Memory | None = None,
    tools: Sequence[BaseTool] | None = None,
    agent_class: type[Agent] = Agent,
) -> FastAPI:
    """Build the HTTP application.

    Args:
        settings: Server settings (default: ``ServerSettings()`` from the environment).
        model: The chat model (default: the one the settings name).
        memory: The memory (default: the settings' database; opened at start-up and closed
            at shutdown only when not given).
        tools: Tools besides the memory tools (default: the registered ones, see
            :mod:`confidante.server.registry`).
        agent_class: The class of the per-user agents (a subclass of :class:`~confidante.Agent`).
    """
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.ensure_dirs()
        store, keys = await asyncio.to_thread(open_storage, settings, memory)
        chat_model = model or build_chat_model(settings)
        extra = list(tools) if tools is not None else registered_tools(store, settings, chat_model)
        agents = AgentPool(
            settings, store, chat_model, extra, settings.max_agents, agent_class=agent_class
        )
        app.state.context = ServerContext(
            settings=settings,
            memory=store,
            keys=keys,
            agents=agents,
            tools={tool.name: tool for tool in [*memory_tools(store), *extra]},
            started=int(time.time()),
        )
        try:
            served = mcp_extra_tools(store, extra)
            mcp = mcp_service(store, keys, served, admin_key=settings.admin_key)
            async with serving(app, mcp):
                yield
        finally:
            await agents.aclose()
            if memory is None:
                store.close()

    app = FastAPI(
        title="confidante",
        version=__version__,
        summary="An OpenAI-compatible assistant that knows its user, with a personal memory API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(CatchAllMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(
        KeyLimitMiddleware,
        per_minute=settings.rate_limit_per_minute,
        concurrent=settings.max_concurrent_per_key,
    )
    app.add_middleware(SecurityHeadersMiddleware, page_policy=PAGE_POLICY)
    for module in (chat, conversation, memories, tools_api, usage_api, admin):
        app.include_router(module.router)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        # The page names its icon; this answers clients that ask at the conventional place.
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    app.router.routes.append(mcp_route("/mcp"))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def app_from_environment() -> FastAPI:
    """Build the app from ``CONFIDANTE_*`` variables (the factory uvicorn's workers call)."""
    return create_app(ServerSettings())
