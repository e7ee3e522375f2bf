"""Request and response bodies of the HTTP API (they make the OpenAPI document).

The chat bodies follow the OpenAI chat-completions API; fields this server does not use
(``temperature``, ``tools``...) are accepted and ignored. Answers add one field of their own,
``confidante``, with what the turn recalled and remembered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from confidante.errors import InvalidInputError
from confidante.memory.items import check_attribute_size
from confidante.usage import Usage

#: Longest text of a memory, a search or a chat message (embedding cost grows with length).
MAX_TEXT = 4_000
#: Longest id in a path (memory ids and approval ids are 32 characters): a longer one is
#: refused with 422 before any lookup, and never echoed back.
MAX_ID = 64


# ------------------------------------------------------------------------------- chat
class ContentPart(BaseModel):
    """One part of a message's content (only ``text`` parts are read)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=64)
    text: str | None = None


class ChatMessage(BaseModel):
    """One message of the conversation sent by the client."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = Field(default=None)

    def text(self) -> str:
        """Return the message's text (text parts joined by newlines)."""
        if isinstance(self.content, str):
            return self.content
        if not self.content:
            return ""
        return "\n".join(part.text for part in self.content if part.text)


class StreamOptions(BaseModel):
    """Options of a streamed answer."""

    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """An OpenAI chat-completions request.

    Only the last message is sent to the agent, which must be the user's: the conversation's
    history is kept by the server (per API key's user and session, see ``X-Session-Id``), and
    the user's memory supplies the context. ``user`` is ignored: the API key names the user.
    """

    model_config = ConfigDict(extra="allow")

    model: str = Field(max_length=200)
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    user: str | None = Field(default=None, max_length=1000)


class MemoryOut(BaseModel):
    """One memory item as the API shows it."""

    model_config = ConfigDict(extra="allow")

    id: str
    text: str
    key: str | None = None
    kind: str = "fact"
    scope: str = "user"
    score: float = 0.0
    importance: float = 0.5
    provenance: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None
    valid_to: datetime | None = None
    expires_at: datetime | None = Field(
        default=None, description="When the item expires (never returned after that)"
    )
    image_url: str | None = Field(
        default=None, description="An image item's picture, for the key's user (a PNG)"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_server_paths(cls, data: Any) -> Any:
        """Never show where the server keeps a file: a picture is fetched by its URL."""
        if isinstance(data, dict) and "image_path" in data:
            data = {name: value for name, value in data.items() if name != "image_path"}
            if data.get("kind") == "image" and data.get("id"):
                data["image_url"] = f"/v1/memories/{data['id']}/image"
        return data


class ApprovalOut(BaseModel):
    """A tool call waiting for the user's approval (a graph interrupt)."""

    id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    session_id: str | None = None


class CompletionUsage(BaseModel):
    """The OpenAI ``usage`` of a chat answer: the tokens of every model call of the turn.

    That is the reply's call and the turn's others (planning, fact extraction that finished
    within the turn); ``confidante.usage`` splits them by kind.
    """

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, usage: Usage) -> CompletionUsage:
        """The totals of a turn's :class:`~confidante.usage.Usage`."""
        return cls(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
        )


class TurnInfo(BaseModel):
    """What the turn did besides answering (the ``confidante`` field of chat answers).

    ``usage`` is the turn's model calls, tokens and seconds, in total and per kind.
    """

    session_id: str
    route: str = "chat"
    recalled: list[MemoryOut] = Field(default_factory=list)
    remembered: list[dict[str, Any]] = Field(default_factory=list)
    results: list[dict[str, Any]] = Field(default_factory=list)
    pending: list[ApprovalOut] = Field(default_factory=list)
    usage: Usage | None = None


class TurnOutcome(TurnInfo):
    """A resumed turn's outcome: the reply and what the turn did."""

    reply: str


class AssistantMessage(BaseModel):
    """The assistant's answer."""

    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    """One answer (this server always gives one)."""

    index: int = 0
    message: AssistantMessage
    finish_reason: str = "stop"


class ChatCompletion(BaseModel):
    """An OpenAI chat completion, plus ``confidante``."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage | None = None
    confidante: TurnInfo


class ModelCard(BaseModel):
    """A model the server offers."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "confidante"


class ModelList(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class SessionMessage(BaseModel):
    """One message of a session's conversation, as the server keeps it."""

    role: Literal["user", "assistant"]
    content: str


class SessionMessages(BaseModel):
    """``GET /v1/chat/messages``: the messages a session's conversation keeps, oldest first."""

    object: Literal["list"] = "list"
    session_id: str
    data: list[SessionMessage]


# --------------------------------------------------------------------------- memories
class MemoryList(BaseModel):
    """A list of memory items."""

    object: Literal["list"] = "list"
    data: list[MemoryOut]


class MemoryCreate(BaseModel):
    """``POST /v1/memories``: remember one item."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    key: str | None = Field(default=None, max_length=100)
    kind: str = Field(default="fact", min_length=1, max_length=32)
    importance: float = Field(default=0.5, ge=0.0, le=1.0)
    attributes: dict[str, Any] = Field(default_factory=dict)
    expires_at: datetime | None = Field(
        default=None,
        description="When the item expires (ISO 8601, in the future; without an offset: UTC)",
    )
    ttl_seconds: float | None = Field(
        default=None, gt=0, description="Or how many seconds it lives (not with expires_at)"
    )

    @field_validator("attributes")
    @classmethod
    def _small_attributes(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        return _bounded(attributes) or {}


def _bounded(attributes: dict[str, Any] | None) -> dict[str, Any] | None:
    """The memory's size check on a request body, so that the API answers 422."""
    if attributes is not None:
        try:
            check_attribute_size(attributes)
        except InvalidInputError as error:
            raise ValueError(str(error)) from error
    return attributes


class MemoryPatch(BaseModel):
    """``PATCH /v1/memories/{id}``: edit an item in place (only the fields given).

    The expiry is set as ``POST /v1/memories`` sets it (``expires_at`` or ``ttl_seconds``, not
    both; a moment in the past is refused with 400), and ``"expires_at": "never"`` removes it.
    """

    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    importance: float | None = Field(default=None, ge=0.0, le=1.0)
    attributes: dict[str, Any] | None = None
    expires_at: Literal["never"] | datetime | None = Field(
        default=None,
        description="A new expiry (ISO 8601, in the future; without an offset: UTC), or "
        '"never" to remove it; absent or null: unchanged',
    )
    ttl_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Or how many seconds from now it lives (not with expires_at)",
    )

    @field_validator("attributes")
    @classmethod
    def _small_attributes(cls, attributes: dict[str, Any] | None) -> dict[str, Any] | None:
        return _bounded(attributes)


class Deleted(BaseModel):
    """A deletion's answer."""

    id: str
    object: str = "memory"
    deleted: bool = True


class ImportResult(BaseModel):
    """``POST /v1/memories/import``: the ids of the imported items."""

    imported: int
    ids: list[str]


class ErasedUser(BaseModel):
    """``DELETE /v1/users/me``: rows deleted per table (checkpoint threads included)."""

    user: str
    deleted: dict[str, int]


# ------------------------------------------------------------------------ tools, admin
class ToolCall(BaseModel):
    """``POST /v1/tools/{name}``: the tool's arguments (the user comes from the key)."""

    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolOutput(BaseModel):
    """A tool's result."""

    tool: str
    output: Any


class ToolCard(BaseModel):
    """A tool the server can run, with its argument schema."""

    name: str
    description: str
    side_effect: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)


class ToolList(BaseModel):
    """``GET /v1/tools``."""

    object: Literal["list"] = "list"
    data: list[ToolCard]


class ApprovalList(BaseModel):
    """``GET /v1/approvals``."""

    object: Literal["list"] = "list"
    data: list[ApprovalOut]


class ApprovalDecision(BaseModel):
    """``POST /v1/approvals/{id}``: approve, edit (with new ``args``) or reject."""

    decision: Literal["approve", "edit", "reject"]
    args: dict[str, Any] | None = None


class KeyCreate(BaseModel):
    """``POST /v1/admin/keys``: make a key for a user."""

    user: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=100)


class KeyOut(BaseModel):
    """A key's record (no secret)."""

    id: str
    user: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


class NewKey(KeyOut):
    """A new key: ``key`` is shown only in this answer."""

    key: str


class KeyList(BaseModel):
    """A list of keys."""

    object: Literal["list"] = "list"
    data: list[KeyOut]
