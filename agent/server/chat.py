"""``POST /v1/chat/completions`` (OpenAI-compatible, streaming or not) and ``GET /v1/models``.

The API key names the user; the body's ``user`` field never does. The last message (the
user's) runs one turn of that user's agent in the session named by the ``X-Session-Id``
header (default ``default``): the server keeps the conversation, so earlier messages of the
body are not replayed. Streaming sends each piece of the reply as the model writes it (one
``content`` delta per piece), before the turn's fact extraction, then what was remembered; a
reply the model did not stream (a fallback, a paused turn) is sent whole when ``respond`` ends.

Answers carry the OpenAI ``usage`` (the tokens of all the turn's model calls; per kind and with
seconds in ``confidante.usage``). A stream carries it when the request asks with
``stream_options: {"include_usage": true}`` (as the ``openai`` client does): in one last chunk
with no choices, before ``[DONE]``, as OpenAI sends it.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from confidante.agent import Agent
from confidante.errors import InvalidInputError, ModelError
from confidante.server.context import Context, ServerContext, User
from confidante.server.errors import ERROR_RESPONSES, ApiError, json_error_text
from confidante.server.schemas import (
    MAX_TEXT,
    ApprovalOut,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    CompletionUsage,
    MemoryOut,
    ModelCard,
    ModelList,
    TurnInfo,
)
from confidante.usage import Usage

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["chat"])

SessionHeader = Annotated[
    str | None,
    Header(
        alias="X-Session-Id",
        max_length=100,
        description="The conversation thread of this key's user (default: `default`).",
    ),
]


def session_of(value: str | None) -> str:
    """Validate the session id of a request (printable, at most 100 characters)."""
    session = (value or "default").strip() or "default"
    if len(session) > 100 or not session.isprintable():
        raise ApiError(400, "invalid_session", "X-Session-Id must be printable, at most 100 chars")
    return session


def turn_text(body: ChatCompletionRequest) -> str:
    """Return the text of the request's last message, which must be the user's."""
    last = body.messages[-1]
    if last.role != "user":
        raise ApiError(
            400, "last_message_not_user", "the last message must be the user's", param="messages"
        )
    text = last.text().strip()
    if not text:
        raise ApiError(400, "empty_message", "the user's message is empty", param="messages")
    if len(text) > MAX_TEXT:
        raise ApiError(
            400,
            "message_too_long",
            f"the message is longer than {MAX_TEXT} characters",
            param="messages",
        )
    return text


async def pending_of(agent: Agent, session_id: str) -> list[ApprovalOut]:
    """Return the session's pending approvals (none when the agent cannot pause)."""
    apending = getattr(agent, "apending", None)
    if apending is None:
        return []
    return [approval_out(item) for item in await apending(session_id=session_id)]


def approval_out(item: Any) -> ApprovalOut:
    """Convert an ``Approval`` (any object or dict with id, tool, args, session_id)."""
    fields = (
        item
        if isinstance(item, dict)
        else {name: getattr(item, name, None) for name in ("id", "tool", "args", "session_id")}
    )
    return ApprovalOut(
        id=str(fields.get("id")),
        tool=str(fields.get("tool")),
        args=dict(fields.get("args") or {}),
        session_id=fields.get("session_id"),
    )


@router.get("/models", response_model=ModelList, responses=ERROR_RESPONSES)
async def list_models(context: Context, _: User) -> ModelList:
    """List the model this server offers (any ``model`` value is accepted in requests)."""
    card = ModelCard(id=context.settings.model_id, created=context.started)
    return ModelList(data=[card])


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={
        **ERROR_RESPONSES,
        200: {
            "description": "The completion, or with `stream: true` an event stream of chunks",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        502: {"description": "The chat model failed"},
    },
)
async def chat_completions(
    body: ChatCompletionRequest, context: Context, user: User, x_session_id: SessionHeader = None
) -> Any:
    """Run one turn for the key's user and answer like the OpenAI API."""
    session = session_of(x_session_id)
    text = turn_text(body)
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            _stream(context, user, session, text, body.model, include_usage),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    async with context.agents.turn(user, session) as agent:
        result = await agent.aturn(text, session_id=session)
        pending = await pending_of(agent, session)
    info = TurnInfo(
        session_id=session,
        route=result.route,
        recalled=result.recalled,  # type: ignore[arg-type]
        remembered=result.remembered,
        results=result.results,
        pending=pending,
        usage=result.usage,
    )
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        model=body.model,
        choices=[Choice(message=AssistantMessage(content=result.reply))],
        usage=CompletionUsage.of(result.usage),
        confidante=info,
    )


def _chunk(
    completion_id: str,
    model: str,
    delta: dict[str, Any] | None,
    finish: str | None = None,
    **extra: Any,
) -> str:
    """One server-sent chunk (``delta=None``: a chunk with no choices, the usage chunk)."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    data = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        **extra,
    }
    return f"data: {json.dumps(data, default=str)}\n\n"


async def _stream(
    context: ServerContext,
    user: str,
    session: str,
    text: str,
    model: str,
    include_usage: bool = False,
) -> AsyncIterator[str]:
    """Yield the server-sent events of one streamed turn."""
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""})
    try:
        async with context.agents.turn(user, session) as agent:
            streamed = False  # whether the reply came as tokens (then it is not sent again)
            usage = Usage()
            async for mode, chunk in agent.astream(text, session_id=session):
                if mode == "usage":
                    usage = chunk
                    continue
                if mode == "token":
                    streamed = True
                    yield _chunk(completion_id, model, {"content": chunk["text"]})
                    continue
                for event in _events(mode, chunk, session):
                    if "content" not in event:
                        yield _chunk(completion_id, model, {}, confidante=event)
                    elif not streamed:
                        yield _chunk(completion_id, model, {"content": event["content"]})
            pending = await pending_of(agent, session)
        final = {
            "session_id": session,
            "pending": [p.model_dump() for p in pending],
            "usage": usage.model_dump(mode="json"),
        }
        yield _chunk(completion_id, model, {}, "stop", confidante=final)
        if include_usage:
            totals = CompletionUsage.of(usage).model_dump()
            yield _chunk(completion_id, model, None, usage=totals)
    except (InvalidInputError, ModelError) as exc:
        status, code = (
            (400, "invalid_value") if isinstance(exc, InvalidInputError) else (502, "model_error")
        )
        yield f"data: {json_error_text(status, code, str(exc))}\n\n"
    except Exception:  # the stream must end with an error event
        logger.exception("streamed turn failed")
        yield f"data: {json_error_text(500, 'internal_error', 'internal server error')}\n\n"
    yield "data: [DONE]\n\n"


def _events(mode: str, chunk: Any, session: str) -> list[dict[str, Any]]:
    """Turn one graph stream item into the events the client sees."""
    if mode == "custom" and isinstance(chunk, dict):
        kind = chunk.get("event")
        if kind == "recalled":
            items = [
                MemoryOut.model_validate(item).model_dump(mode="json")
                for item in chunk.get("items", [])
            ]
            return [{"session_id": session, "recalled": items}]
        if kind == "remembered":
            return [{"session_id": session, "remembered": chunk.get("items", [])}]
        return []
    if mode == "updates" and isinstance(chunk, dict):
        update = chunk.get("respond")
        if isinstance(update, dict) and update.get("reply"):
            return [{"content": str(update["reply"])}]
    return []
