"""The summary tasks: what each offline summary is for and how long it may be.

A task names the use a summary serves (``chat``, ``recommendation``, ``search``, ``image``);
its :class:`TaskSpec` says what the model is told, which memories are picked, and the length cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, Field, create_model

from confidante.errors import InvalidInputError

TASKS: tuple[str, ...] = ("chat", "recommendation", "search", "image")
MAX_SUMMARY_CHARS = 480


@dataclass(frozen=True)
class TaskSpec:
    """How the summary of one task is made.

    Attributes:
        purpose: What the summary is for, as told to the model.
        query: The retrieval query that picks the memories when the user has many.
        messages: How many of the user's latest messages the prompt shows (0: none).
        max_chars: The longest summary accepted (the schema's ``maxLength``).
    """

    purpose: str
    query: str
    messages: int = 0
    max_chars: int = MAX_SUMMARY_CHARS


TASK_SPECS: dict[str, TaskSpec] = {
    "chat": TaskSpec(
        "chatting with the user (who they are, their life, people and pets, what they care about)",
        "the user's name, home, work, family, pets and what they care about",
    ),
    "recommendation": TaskSpec(
        "recommending things the user will like (tastes, likes, dislikes, diet, hobbies)",
        "what the user likes, loves, enjoys or dislikes: food, films, books, music, hobbies",
        max_chars=1_200,  # tastes span many facets; still a fraction of the memories they cover
    ),
    "search": TaskSpec(
        "suggesting web searches (the user's interests, work, place and recent questions)",
        "the user's interests, work, studies, city and hobbies",
        messages=4,
        max_chars=600,
    ),
    "image": TaskSpec(
        "making pictures the user will like (visual taste, colours, styles, places, pets)",
        "the user's favourite colours, art, style, places, pets and things they like to see",
        max_chars=600,
    ),
}


class UserSummary(BaseModel):
    """The model's answer: a short summary of the user for one task (``chat``'s length cap)."""

    summary: str = Field(
        min_length=1,
        max_length=MAX_SUMMARY_CHARS,
        description="short sentences about the user",
    )


@cache
def summary_schema(task: str) -> type[UserSummary]:
    """The answer schema of one task: :class:`UserSummary` with the task's length cap."""
    cap = TASK_SPECS[check_task(task)].max_chars
    if cap == MAX_SUMMARY_CHARS:
        return UserSummary
    field = Field(min_length=1, max_length=cap, description="short sentences about the user")
    return create_model("UserSummary", __base__=UserSummary, summary=(str, field))


def check_task(task: str) -> str:
    """Validate a task name (one of :data:`TASKS`)."""
    if task not in TASK_SPECS:
        raise InvalidInputError(f"unknown summary task {task!r}; use one of {', '.join(TASKS)}")
    return task
