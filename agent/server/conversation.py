"""``GET /v1/chat/messages``: read back the conversation a session keeps (the web page's reload).

The messages come from the checkpointed state of the thread of the key's user and the
``X-Session-Id`` session (the same thread ``POST /v1/chat/completions`` continues): another
key naming the same session reads its own user's thread, never this one. The state keeps the
last ``CONFIDANTE_SESSION_WINDOW`` messages; older ones are not listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from fastapi import APIRouter
from langchain_core.messages import AIMessage, HumanMessage

from confidante.server.chat import SessionHeader, session_of
from confidante.server.context import Context, User
from confidante.server.errors import ERROR_RESPONSES
from confidante.server.schemas import SessionMessage, SessionMessages

router = APIRouter(prefix="/v1", tags=["chat"], responses=ERROR_RESPONSES)


def session_messages(messages: Iterable[Any]) -> list[SessionMessage]:
    """Return the user's and the assistant's messages of a state, in order.

    Args:
        messages: The ``messages`` of a session's graph state (langchain-core messages).

    Returns:
        One entry per human or AI message with text; other kinds (tool, system) are left out.
    """
    listed: list[SessionMessage] = []
    for message in messages:
        role: Literal["user", "assistant"]
        if isinstance(message, HumanMessage):
            role = "user"
        elif isinstance(message, AIMessage):
            role = "assistant"
        else:
            continue
        if message.text:
            listed.append(SessionMessage(role=role, content=message.text))
    return listed


@router.get("/chat/messages", response_model=SessionMessages)
async def list_messages(
    context: Context, user: User, x_session_id: SessionHeader = None
) -> SessionMessages:
    """List the messages of the key's user's session (``X-Session-Id``), oldest first."""
    session = session_of(x_session_id)
    async with context.agents.using(user) as agent:
        state = await agent.astate(session)
    return SessionMessages(session_id=session, data=session_messages(state.get("messages", [])))
