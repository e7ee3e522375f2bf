"""MCP over streamable HTTP, behind the API's keys.

Served at ``/mcp`` by ``confidante serve``, and alone by ``confidante mcp --transport http``.
The transport is the MCP SDK's own (``MCPServer.streamable_http_app`` and its
``session_manager``), stateless with JSON answers: nothing is kept between requests, so any
worker of ``serve --workers N`` answers any request. In front of it, :class:`McpEndpoint`
checks the request's bearer key with :func:`~confidante.server.auth.authenticate_key`, the
check of every API route (401 without a valid key, 403 for a reserved owner's key or the admin
key), and hands the key's user to the SDK as the request's access token (``subject``); the
tools read it back with :func:`~confidante.integrations.mcp_server.key_user`. No tool argument
names a user, so a key reaches its own user's memory and nobody else's.

Limits are the API's: ``/mcp`` of ``serve`` is a route of the same app, behind the same
middleware (per-key rate and concurrency, request size), and :func:`standalone_app` puts the
same middleware in front of the endpoint alone. An MCP request counts like any API request
of its key.

The SDK's DNS-rebinding guard (a ``Host`` allow-list for servers on localhost) is off: it
protects servers that trust whoever reaches them, and here every request must carry a key,
which a page that rebinds a host name cannot have.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from confidante.memory.store import Memory
from confidante.server.auth import authenticate_key, bearer
from confidante.server.errors import (
    ApiError,
    BodyLimitMiddleware,
    CatchAllMiddleware,
    error_response,
)
from confidante.server.keys import KeyStore, hash_key
from confidante.server.limits import KeyLimitMiddleware
from confidante.server.settings import ServerSettings

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

__all__ = ["McpEndpoint", "McpService", "mcp_route", "mcp_service", "serving", "standalone_app"]


@dataclass(frozen=True)
class McpService:
    """What :class:`McpEndpoint` serves with.

    Attributes:
        keys: The API keys.
        session_manager: The SDK's streamable HTTP session manager (run it with
            :func:`serving`).
        admin_key: The admin key, refused here like on the API.
        only_user: Accept only this user's keys (``confidante mcp --user U``); None: any key.
    """

    keys: KeyStore
    session_manager: StreamableHTTPSessionManager
    admin_key: SecretStr | None = None
    only_user: str | None = None


def mcp_service(
    memory: Memory,
    keys: KeyStore,
    extra_tools: Sequence[BaseTool],
    *,
    admin_key: SecretStr | None = None,
    only_user: str | None = None,
) -> McpService | None:
    """Build the MCP server for key-authenticated HTTP; None when the SDK is not installed.

    Args:
        memory: The memory.
        keys: The API keys.
        extra_tools: Tools served beside remember/recall/forget (see
            :func:`~confidante.integrations.mcp_server.mcp_extra_tools`).
        admin_key: The admin key (refused with its own message).
        only_user: Accept only this user's keys.

    Raises:
        ConfigurationError: An extra tool cannot be served.
    """
    if importlib.util.find_spec("mcp") is None:
        return None
    from mcp.server.transport_security import TransportSecuritySettings

    from confidante.integrations.mcp_server import build_mcp_server, key_user

    server = build_mcp_server(memory, key_user, extra_tools=extra_tools)
    server.streamable_http_app(  # makes the session manager; the route is McpEndpoint
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return McpService(keys, server.session_manager, admin_key, only_user)


@asynccontextmanager
async def serving(app: Starlette, service: McpService | None) -> AsyncIterator[None]:
    """Serve MCP requests while the block runs (call it in the app's lifespan)."""
    app.state.mcp = service
    if service is None:
        yield
        return
    async with service.session_manager.run():
        yield


class McpEndpoint:
    """The ASGI endpoint of MCP: check the key, then let the SDK's transport answer.

    It reads the :class:`McpService` from ``app.state.mcp`` (set by :func:`serving`); without
    one (no SDK installed) it answers 501.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request of the transport."""
        from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
        from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
        from mcp.server.auth.provider import AccessToken

        service: McpService | None = getattr(scope["app"].state, "mcp", None)
        try:
            if service is None:
                raise ApiError(
                    501,
                    "mcp_unavailable",
                    "MCP needs the official SDK: pip install 'confidante[integrations]'",
                )
            user, token = await self._authenticate(service, scope)
        except ApiError as exc:
            response = error_response(exc.status, exc.code, exc.message, headers=exc.headers)
            await response(scope, receive, send)
            return
        access = AccessToken(token=hash_key(token), client_id=user, subject=user, scopes=[])
        scope = {**scope, "user": AuthenticatedUser(access)}
        await AuthContextMiddleware(service.session_manager.handle_request)(scope, receive, send)

    @staticmethod
    async def _authenticate(service: McpService, scope: Scope) -> tuple[str, str]:
        credentials = await bearer(Request(scope))
        token = credentials.credentials if credentials is not None else None
        user = await authenticate_key(service.keys, token, admin_key=service.admin_key)
        if service.only_user is not None and user != service.only_user:
            raise ApiError(
                403,
                "wrong_user",
                "this MCP server serves one user's memory (confidante mcp --user); "
                "this key is another user's",
            )
        assert token is not None  # authenticate_key refuses a request without one
        return user, token


def mcp_route(path: str = "/mcp") -> Route:
    """Return the route of the transport (GET, POST, DELETE at ``path``), for any app."""
    return Route(path, McpEndpoint(), methods=["GET", "POST", "DELETE"], include_in_schema=False)


def standalone_app(service: McpService, settings: ServerSettings, path: str = "/mcp") -> Starlette:
    """Return an app that serves only MCP at ``path``, with the API's per-key limits.

    Args:
        service: What to serve (see :func:`mcp_service`).
        settings: The limits (``rate_limit_per_minute``, ``max_concurrent_per_key``,
            ``max_request_bytes``).
        path: The endpoint's path.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with serving(app, service):
            yield

    middleware = [
        Middleware(
            KeyLimitMiddleware,
            per_minute=settings.rate_limit_per_minute,
            concurrent=settings.max_concurrent_per_key,
        ),
        Middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes),
        Middleware(CatchAllMiddleware),
    ]
    return Starlette(routes=[mcp_route(path)], middleware=middleware, lifespan=lifespan)
