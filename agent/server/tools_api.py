"""``/v1/tools``: run a registered tool for the key's user; ``/v1/approvals``: graph interrupts.

Tools are langchain-core tools that read their user from the run config
(``configurable.user_id``); the server sets it from the API key, so arguments can never name
another user. Approvals use the agent's ``apending``/``aresume``; a build of the agent without
them answers 501.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import ValidationError

from confidante.memory.items import shown
from confidante.server.chat import approval_out, pending_of, session_of
from confidante.server.context import Context, User
from confidante.server.errors import ERROR_RESPONSES, NOT_FOUND, ApiError
from confidante.server.schemas import (
    MAX_ID,
    ApprovalDecision,
    ApprovalList,
    ToolCall,
    ToolCard,
    ToolList,
    TurnOutcome,
)
from confidante.tools.factory import has_side_effect

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
NOT_IMPLEMENTED: dict[int | str, dict[str, Any]] = {
    501: {"description": "This build of the agent cannot pause for approval"}
}


def _json_ready(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


@router.get("/tools", response_model=ToolList, tags=["tools"])
async def list_tools(context: Context, _: User) -> ToolList:
    """List the tools this server can run, with their argument schemas."""
    cards = [
        ToolCard(
            name=tool.name,
            description=tool.description,
            side_effect=has_side_effect(tool),
            parameters=tool.tool_call_schema.model_json_schema()
            if hasattr(tool.tool_call_schema, "model_json_schema")
            else {},
        )
        for tool in context.tools.values()
    ]
    return ToolList(data=cards)


@router.post("/tools/{name}", tags=["tools"], responses=NOT_FOUND)
async def run_tool(
    name: Annotated[str, Path(max_length=100)], body: ToolCall, context: Context, user: User
) -> dict[str, Any]:
    """Run a tool for the key's user; answers ``{"tool": name, "output": ...}``."""
    tool = context.tools.get(name)
    if tool is None:
        raise ApiError(404, "unknown_tool", f"no tool named {shown(name)}")
    config = {"configurable": {"user_id": user}}
    try:
        output = await tool.ainvoke(body.arguments, config=config)  # type: ignore[arg-type]
    except ValidationError as exc:
        message = exc.errors()[0].get("msg", "invalid arguments") if exc.errors() else str(exc)
        raise ApiError(422, "invalid_arguments", f"{name}: {message}", param="arguments") from exc
    return {"tool": name, "output": _json_ready(output)}


def _require(agent: Any, method: str) -> Any:
    found = getattr(agent, method, None)
    if found is None:
        raise ApiError(
            501,
            "approvals_unavailable",
            f"this build of the agent has no {method}(); approvals cannot be listed or answered",
        )
    return found


@router.get(
    "/approvals", response_model=ApprovalList, tags=["approvals"], responses=NOT_IMPLEMENTED
)
async def list_approvals(
    context: Context,
    user: User,
    session_id: Annotated[str | None, Query(max_length=100)] = None,
) -> ApprovalList:
    """List the key's user's tool calls waiting for approval (one session, or all)."""
    async with context.agents.using(user) as agent:
        apending = _require(agent, "apending")
        if session_id is not None:
            items = await apending(session_id=session_of(session_id))
        else:
            items = await _everywhere(agent, apending)
    return ApprovalList(data=[approval_out(item) for item in items])


async def _everywhere(agent: Any, apending: Any) -> list[Any]:
    """Every session's pending calls (an agent without ``apending_everywhere``: its own)."""
    everywhere = getattr(agent, "apending_everywhere", None)
    return list(await everywhere() if everywhere is not None else await apending(session_id=None))


@router.post(
    "/approvals/{approval_id}",
    response_model=TurnOutcome,
    tags=["approvals"],
    responses={**NOT_FOUND, **NOT_IMPLEMENTED},
)
async def answer_approval(
    approval_id: Annotated[str, Path(max_length=MAX_ID)],
    body: ApprovalDecision,
    context: Context,
    user: User,
) -> TurnOutcome:
    """Approve, edit (``args``) or reject a pending tool call; the paused turn then goes on.

    Answers the turn's outcome: ``reply`` plus what it recalled, remembered and ran.
    """
    async with context.agents.using(user) as agent:
        apending = _require(agent, "apending")
        _require(agent, "aresume")  # 501 before anything else when approvals are missing
        pending = [approval_out(item) for item in await _everywhere(agent, apending)]
    match = next((item for item in pending if item.id == approval_id), None)
    if match is None:
        raise ApiError(404, "not_found", f"no pending approval {shown(approval_id)} for this user")
    if body.decision == "edit" and body.args is None:
        raise ApiError(400, "missing_args", "an edit needs the new 'args'", param="args")
    session = match.session_id or "default"
    async with context.agents.turn(user, session) as agent:
        aresume = _require(agent, "aresume")
        result = await aresume(body.decision, args=body.args, session_id=match.session_id)
        still = await pending_of(agent, session)
    return TurnOutcome(
        reply=str(getattr(result, "reply", "")),
        session_id=session,
        route=str(getattr(result, "route", "task")),
        recalled=list(getattr(result, "recalled", [])),
        remembered=list(getattr(result, "remembered", [])),
        results=list(getattr(result, "results", [])),
        pending=still,
        usage=getattr(result, "usage", None),  # the continued part of the turn
    )
