"""What one server process shares between requests, and the authentication dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from langchain_core.tools import BaseTool

from confidante.memory.store import Memory
from confidante.server.agents import AgentPool
from confidante.server.auth import authenticate_key, bearer, is_admin_key, unauthorized
from confidante.server.keys import KeyStore
from confidante.server.settings import ServerSettings
from confidante.usage_log import UsageLog


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
        usage: The users' usage log (in the memory's database), for ``/v1/usage``.
    """

    settings: ServerSettings
    memory: Memory
    keys: KeyStore
    agents: AgentPool
    tools: dict[str, BaseTool] = field(default_factory=dict)
    started: int = 0
    usage: UsageLog = field(init=False)

    def __post_init__(self) -> None:
        self.usage = UsageLog(self.memory.database)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def get_context(request: Request) -> ServerContext:
    """Return the server's shared state."""
    context: ServerContext = request.app.state.context
    return context


Context = Annotated[ServerContext, Depends(get_context)]


async def current_user(context: Context, credentials: Credentials) -> str:
    """Return the user the request's API key acts for (see :func:`authenticate_key`)."""
    token = credentials.credentials if credentials is not None else None
    return await authenticate_key(context.keys, token, admin_key=context.settings.admin_key)


async def require_admin(context: Context, credentials: Credentials) -> None:
    """Allow only the admin key (401 otherwise; 401 too when no admin key is configured)."""
    if credentials is None:
        raise unauthorized(
            "missing admin key: send 'Authorization: Bearer <key>'", "missing_api_key"
        )
    if context.settings.admin_key is None:
        raise unauthorized("the admin API is disabled: set CONFIDANTE_ADMIN_KEY", "admin_disabled")
    if not is_admin_key(context.settings.admin_key, credentials.credentials):
        raise unauthorized("invalid admin key")


User = Annotated[str, Depends(current_user)]
Admin = Annotated[None, Depends(require_admin)]
