"""Who a bearer key acts for: the one check behind every authenticated route and ``/mcp``.

:func:`authenticate_key` is what the API's ``User`` dependency
(:func:`confidante.server.context.current_user`) and the MCP endpoint
(:mod:`confidante.server.mcp_http`) both call, so a key means the same user, and is refused
for the same reasons, over either protocol:

- no key: 401 ``missing_api_key``; an unknown or revoked key: 401 ``invalid_api_key``;
- a key made for a reserved owner (``@global``, ``@persona:NAME``) before such keys were
  refused: 403 ``reserved_user``;
- the admin key: 403 ``admin_key`` (it manages keys; it is nobody's memory).
"""

from __future__ import annotations

import hmac

from fastapi.security import HTTPBearer
from pydantic import SecretStr

from confidante.memory.scopes import is_reserved_owner
from confidante.server.errors import ApiError
from confidante.server.keys import KeyStore

#: Reads ``Authorization: Bearer <key>`` (None when absent: the check says why it failed).
bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer cft_...`")


def unauthorized(message: str, code: str = "invalid_api_key") -> ApiError:
    """Return the 401 error, with the ``WWW-Authenticate: Bearer`` challenge."""
    return ApiError(401, code, message, headers={"WWW-Authenticate": "Bearer"})


def is_admin_key(admin_key: SecretStr | None, token: str) -> bool:
    """Tell whether ``token`` is the configured admin key (never, when none is configured)."""
    if admin_key is None or not admin_key.get_secret_value():
        return False
    return hmac.compare_digest(token.encode(), admin_key.get_secret_value().encode())


async def authenticate_key(
    keys: KeyStore, token: str | None, *, admin_key: SecretStr | None = None
) -> str:
    """Return the user an API key acts for.

    Args:
        keys: The stored keys.
        token: The bearer token of the request (None: the request sent none).
        admin_key: The admin key, refused here with its own message.

    Raises:
        ApiError: 401 without a valid key; 403 for a reserved owner's key or the admin key.
    """
    if token is None:
        raise unauthorized("missing API key: send 'Authorization: Bearer <key>'", "missing_api_key")
    user = await keys.aauthenticate(token)
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
    if is_admin_key(admin_key, token):
        raise ApiError(403, "admin_key", "the admin key manages keys; use a user's key here")
    raise unauthorized("invalid or revoked API key")
