"""Granularity of memory: a user, a persona (a group of users), or everyone.

Shared memories are stored like a user's, under a reserved owner id: ``@persona:NAME`` for a
persona and ``@global`` for the global scope (ids that begin with ``@`` are reserved for these
scopes and never name a person). A retrieval for a user falls back from the user to the
user's personas to the global scope when the user's own items are too few; a retrieval for a
shared scope never reads any user's items.
"""

from __future__ import annotations

from typing import Literal

GLOBAL_OWNER = "@global"
PERSONA_PREFIX = "@persona:"
RESERVED_PREFIX = "@"

Scope = Literal["user", "persona", "global"]


def persona_owner(name: str) -> str:
    """Return the owner id under which a persona's shared memories are stored."""
    return PERSONA_PREFIX + name


def is_reserved_owner(owner: str) -> bool:
    """Whether an owner id is reserved for a shared scope (every id that begins with ``@``)."""
    return owner.startswith(RESERVED_PREFIX)


def scope_of(owner: str) -> Scope:
    """Return the granularity an owner id stands for."""
    if owner == GLOBAL_OWNER:
        return "global"
    if owner.startswith(PERSONA_PREFIX):
        return "persona"
    return "user"
