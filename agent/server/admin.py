"""``/v1/admin``: the admin key makes and revokes users' keys and erases users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from confidante.memory.store import check_user_id
from confidante.server.context import Admin, Context
from confidante.server.errors import ERROR_RESPONSES, NOT_FOUND
from confidante.server.schemas import MAX_ID, ErasedUser, KeyCreate, KeyList, KeyOut, NewKey

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)


@router.post("/keys", response_model=NewKey, status_code=status.HTTP_201_CREATED)
async def create_key(body: KeyCreate, context: Context, _: Admin) -> NewKey:
    """Make a key for a user (the user needs no other set-up); ``key`` is shown only here."""
    info, secret = await context.keys.acreate(body.user, body.name)
    return NewKey(**info.model_dump(), key=secret)


@router.get("/keys", response_model=KeyList)
async def list_keys(
    context: Context, _: Admin, user: Annotated[str | None, Query(max_length=200)] = None
) -> KeyList:
    """List keys (all, or one user's), without their secrets."""
    infos = await context.keys.alist_keys(user)
    return KeyList(data=[KeyOut(**info.model_dump()) for info in infos])


@router.delete("/keys/{key_id}", response_model=KeyOut, responses=NOT_FOUND)
async def revoke_key(
    key_id: Annotated[str, Path(max_length=MAX_ID)], context: Context, _: Admin
) -> KeyOut:
    """Revoke a key; it stops working at once."""
    return KeyOut(**(await context.keys.arevoke(key_id)).model_dump())


@router.delete("/users/{user_id}", response_model=ErasedUser)
async def erase_user(
    user_id: Annotated[str, Path(max_length=200)], context: Context, _: Admin
) -> ErasedUser:
    """Erase a user: memory, conversation history and every key."""
    check_user_id(user_id)
    async with context.agents.using(user_id) as agent:
        counts = await agent.aforget_user()
    counts["server_api_keys"] = await context.keys.adelete_user(user_id)
    return ErasedUser(user=user_id, deleted=counts)
