"""``GET /v1/usage``: what the key's user's turns cost, per day and per kind of model call.

Each turn's model calls (see :mod:`confidante.usage`) are logged per user (see
:mod:`confidante.usage_log`); this sums them per day (UTC) and kind (``reply``, ``planning``,
``extraction``...) over the last ``days`` days, with the totals.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from confidante.server.context import Context, User
from confidante.server.errors import ERROR_RESPONSES
from confidante.usage_log import DailyUsage

router = APIRouter(prefix="/v1", tags=["usage"], responses=ERROR_RESPONSES)


class UsageTotals(BaseModel):
    """Model calls, tokens and seconds summed over the rows."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    seconds: float = 0.0


class UsageReport(BaseModel):
    """A user's usage: per day and kind, and in total over those days."""

    user: str
    days: int
    daily: list[DailyUsage] = Field(default_factory=list)
    total: UsageTotals


def totals_of(rows: list[DailyUsage]) -> UsageTotals:
    """Sum the rows."""
    return UsageTotals(
        calls=sum(row.calls for row in rows),
        prompt_tokens=sum(row.prompt_tokens for row in rows),
        completion_tokens=sum(row.completion_tokens for row in rows),
        total_tokens=sum(row.total_tokens for row in rows),
        seconds=round(sum(row.seconds for row in rows), 6),
    )


@router.get("/usage", response_model=UsageReport)
async def usage(
    context: Context,
    user: User,
    days: Annotated[int, Query(ge=1, le=366, description="How many days back (UTC)")] = 30,
) -> UsageReport:
    """The key's user's model usage per day and kind (their own only)."""
    rows = await context.usage.adaily(user, days=days)
    return UsageReport(user=user, days=days, daily=rows, total=totals_of(rows))
