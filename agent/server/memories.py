"""``/v1/memories`` and ``/v1/users/me``: the key's user's memory, and only theirs.

Every call passes the key's user to the memory, which reports another user's item exactly like
a missing one, so foreign ids answer 404 (never 403: ids do not leak).
"""

from __future__ import annotations

from pathlib import Path as FilePath
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, status
from fastapi.responses import FileResponse

from confidante.server.context import Context, User
from confidante.server.errors import ERROR_RESPONSES, NOT_FOUND, ApiError
from confidante.server.schemas import (
    MAX_ID,
    MAX_TEXT,
    Deleted,
    ErasedUser,
    ImportResult,
    MemoryCreate,
    MemoryList,
    MemoryOut,
    MemoryPatch,
)

router = APIRouter(prefix="/v1", tags=["memories"], responses=ERROR_RESPONSES)
ItemId = Annotated[str, Path(max_length=MAX_ID, description="The item's id")]


def _out(hit: Any) -> MemoryOut:
    return MemoryOut.model_validate(hit.model_dump(mode="json"))


@router.get("/memories", response_model=MemoryList)
async def list_or_search(
    context: Context,
    user: User,
    query: Annotated[
        str | None, Query(max_length=MAX_TEXT, description="Search: the best matches first")
    ] = None,
    k: Annotated[int, Query(ge=1, le=100, description="How many search results")] = 10,
    kind: Annotated[list[str] | None, Query(max_length=20, description="Only these kinds")] = None,
    history: Annotated[bool, Query(description="Also replaced items (listing only)")] = False,
) -> MemoryList:
    """List the user's memories (oldest first), or search them with ``query``."""
    kinds = [value[:32] for value in kind] if kind else None
    if query is not None and query.strip():
        hits = await context.memory.aretrieve(user, query, k=k, kinds=kinds, fallback=False)
    else:
        hits = await context.memory.alist_items(user, kinds=kinds, include_history=history)
    return MemoryList(data=[_out(hit) for hit in hits])


@router.post("/memories", response_model=MemoryOut, status_code=status.HTTP_201_CREATED)
async def remember(body: MemoryCreate, context: Context, user: User) -> MemoryOut:
    """Remember one item (same text again returns the existing item)."""
    item_id = await context.memory.aremember(
        user,
        body.text,
        key=body.key,
        kind=body.kind,
        importance=body.importance,
        attributes=body.attributes,
        provenance=["http"],
        expires_at=body.expires_at,
        ttl=body.ttl_seconds,
    )
    return _out(await context.memory.aget(user, item_id))


@router.get("/memories/export", response_model=dict[str, Any])
async def export(context: Context, user: User) -> dict[str, Any]:
    """Export all of the user's items, history included (``confidante.memory`` JSON, v1)."""
    return await context.memory.aexport(user)


@router.post("/memories/import", response_model=ImportResult, status_code=status.HTTP_201_CREATED)
async def import_(
    context: Context,
    user: User,
    document: Annotated[dict[str, Any], Body(description="A document made by export")],
) -> ImportResult:
    """Add the items of an export to the user (the whole document is checked first).

    At most ``CONFIDANTE_MAX_IMPORT_ITEMS`` items per request (413 beyond): a bigger export is
    sent in parts.
    """
    _check_import_size(document, context.settings.max_import_items)
    ids = await context.memory.aimport(user, document)
    return ImportResult(imported=len(ids), ids=ids)


def _check_import_size(document: dict[str, Any], limit: int) -> None:
    items = document.get("items")
    if isinstance(items, list) and len(items) > limit:
        raise ApiError(
            413,
            "too_many_items",
            f"this import has {len(items)} items; at most {limit} per request "
            "(CONFIDANTE_MAX_IMPORT_ITEMS): send the export in parts, each with at most "
            f"{limit} items and the document's subjects",
            param="items",
        )


@router.get("/memories/{item_id}", response_model=MemoryOut, responses=NOT_FOUND)
async def get(item_id: ItemId, context: Context, user: User) -> MemoryOut:
    """Return one of the user's items."""
    return _out(await context.memory.aget(user, item_id))


@router.get(
    "/memories/{item_id}/image",
    response_class=FileResponse,
    responses={**NOT_FOUND, 200: {"content": {"image/png": {}}}},
)
async def image(item_id: ItemId, context: Context, user: User) -> FileResponse:
    """Return the picture of one of the user's image items (PNG)."""
    hit = await context.memory.aget(user, item_id)
    if not hit.image_path or not PurePath(hit.image_path).is_absolute():
        raise ApiError(404, "not_found", "this memory has no picture")
    path = FilePath(hit.image_path)
    if not path.is_file():
        raise ApiError(404, "not_found", "this memory's picture is gone")
    return FileResponse(path, media_type="image/png")


@router.get("/memories/{item_id}/history", response_model=list[dict[str, Any]], responses=NOT_FOUND)
async def history(item_id: ItemId, context: Context, user: User) -> list[dict[str, Any]]:
    """Return the audit trail of one of the user's items, oldest first."""
    return await context.memory.ahistory(user, item_id)


@router.patch("/memories/{item_id}", response_model=MemoryOut, responses=NOT_FOUND)
async def edit(item_id: ItemId, body: MemoryPatch, context: Context, user: User) -> MemoryOut:
    """Edit one of the user's items in place; the next turn sees the change.

    ``expires_at`` or ``ttl_seconds`` gives it a new expiry; ``"expires_at": "never"`` removes it.
    """
    hit = await context.memory.aupdate(
        user,
        item_id,
        text=body.text,
        importance=body.importance,
        attributes=body.attributes,
        expires_at=body.expires_at,
        ttl=body.ttl_seconds,
    )
    return _out(hit)


@router.delete("/memories/{item_id}", response_model=Deleted, responses=NOT_FOUND)
async def forget(item_id: ItemId, context: Context, user: User) -> Deleted:
    """Forget one of the user's items (row and vector deleted)."""
    await context.memory.aforget(user, item_id)
    return Deleted(id=item_id)


@router.delete("/users/me", response_model=ErasedUser, tags=["users"])
async def erase_me(context: Context, user: User) -> ErasedUser:
    """Erase everything of the key's user: memory, events, summaries, conversation history.

    The key itself stays valid (an admin revokes keys).
    """
    async with context.agents.using(user) as agent:
        counts = await agent.aforget_user()
    return ErasedUser(user=user, deleted=counts)
