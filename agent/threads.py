"""Checkpoint threads: one per user and session, named so that both can be read back."""

from __future__ import annotations

import json


def thread_id_for(user_id: str, session_id: str) -> str:
    """Return the checkpoint thread of a user's session (unambiguous, reversible JSON)."""
    return json.dumps([user_id, session_id])


def _parts(thread_id: str) -> tuple[str, str] | None:
    try:
        value = json.loads(thread_id)
    except json.JSONDecodeError:
        return None
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return value[0], value[1]
    return None


def user_of_thread(thread_id: str) -> str | None:
    """Return the user a checkpoint thread belongs to, or None for foreign threads."""
    parts = _parts(thread_id)
    return parts[0] if parts else None


def session_of_thread(user_id: str, thread_id: str) -> str | None:
    """Return the session of ``user_id`` a thread names, or None (another user's, or foreign)."""
    parts = _parts(thread_id)
    return parts[1] if parts and parts[0] == user_id else None
