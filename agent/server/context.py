"""What one server process shares between requests, and the authentication dependencies."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from langchain_core.tools import BaseTool

from confidante.memory.scopes import is_reserved_owner
from confidante.memory.store import Memory
from confidante.server.agents import AgentPool
from confidante.server.errors import ApiError
from confidante.server.keys import KeyStore
from confidante.server.settings import ServerSettings


@dataclass
class ServerContext:
    """The shared state of a server process.

    Attributes:
        settings: The server's settings.
        memory: The shared memory.
        keys: The API keys.
        agents: Per-user agents.
        tools: Tools callable through ``/v1/tools/{name}``, by name.
        started: When the server started (Unix time, for ``/v1/models``).
    """

    settings: ServerSettings
    memory: Memory
    keys: KeyStore
    agents: AgentPool
    tools: dict[str, BaseTool] = field(default_factory=dict)
    started: int = 0


bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer cft_...`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def get_context(request: Request) -> ServerContext:
    """Return the server's shared state."""
    context: ServerContext = request.app.state.context
    return context


Context = Annotated[ServerContext, Depends(get_context)]


def _unauthorized(message: str, code: str = "invalid_api_key") -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": "Bearer"})


def _is_admin(context: ServerContext, token: str) -> bool:
    admin = context.settings.admin_key
    if admin is None or not admin.get_secret_value():
        return False
    return hmac.compare_digest(token.encode(), admin.get_secret_value().encode())


async def current_user(context: Context, credentials: Credentials) -> str:
    """Return the user the request's API key acts for (401 without a valid key)."""
    if credentials is None:
        raise _unauthorized(
            "missing API key: send 'Authorization: Bearer <key>'", "missing_api_key"
        )
    token = credentials.credentials
    user = await context.keys.aauthenticate(token)
    if user is not None and is_reserved_owner(user):
        # A key made for a shared scope before such keys were refused: acting as "@global"
        # would plant memories that every user's answers recall.
        raise ApiError(
            403,
            "reserved_user",
            "this key's user is reserved for shared memories; revoke the key",
        )
    if user is not None:
        return user
    if _is_admin(context, token):
        raise ApiError(403, "admin_key", "the admin key manages keys; use a user's key here")
    raise _unauthorized("invalid or revoked API key")


async def require_admin(context: Context, credentials: Credentials) -> None:
    """Allow only the admin key (401 otherwise; 401 too when no admin key is configured)."""
    if credentials is None:
        raise _unauthorized(
            "missing admin key: send 'Authorization: Bearer <key>'", "missing_api_key"
        )
    if context.settings.admin_key is None:
        raise _unauthorized("the admin API is disabled: set CONFIDANTE_ADMIN_KEY", "admin_disabled")
    if not _is_admin(context, credentials.credentials):
        raise _unauthorized("invalid admin key")


User = Annotated[str, Depends(current_user)]
Admin = Annotated[None, Depends(require_admin)]
