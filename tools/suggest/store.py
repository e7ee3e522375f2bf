"""The suggestion store: users' activities kept in the memory, profiles and the global layer.

Each distinct activity is one memory item of kind :data:`ACTIVITY_KIND` in the user's own
memory (``Searched for: ...``, ``Read: ...``, ``Talked about: ...``); every occurrence adds a
provenance entry ``KIND@ISO-TIME`` to it (the memory merges an item whose text the user already
has). So the memory's rules apply to the store as to any item: only the owner reads it,
``Memory.aexport`` includes it (and an import restores it), ``Memory.aforget_user`` deletes it.
The aggregated :class:`~confidante.tools.suggest.profile.UserProfile` and the global layer are
derived from these items and cached in the process; a profile is checked against the database
before each use (count and last update of the user's items and chat messages, one statement in
one round trip), so an edit or a deletion shows at the next call. The store reads through
:class:`~confidante.memory.bulk_reads.BulkReads` (the user's own items, or every user's for the
global layer), never the memory's tables.

Conversation topics also come from the chat itself, without a write of their own: the agent
stores every user message as an event of the user's memory (``Memory.arecord_event``), and a
user's profile reads their latest messages as ``topic`` activities (their entities count; see
``conversation_topics``). They stay out of the global layer. The messages of the conversation
going on (the user's latest ones, none older than :data:`~.profile.SESSION_GAP` before the
next) are also what was *just discussed*: ``asuggest(..., conversation=True)`` (the graph
tool's way) proposes searches that fit them (see ``topics`` in
:meth:`~confidante.tools.suggest.ranker.Ranker.suggest`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError
from confidante.memory.bulk_reads import BulkReads, KindItem, Watermark
from confidante.memory.ingest.events import LoggedEvent
from confidante.memory.items import MemoryItem, check_user_id
from confidante.memory.scopes import scope_of
from confidante.tools.suggest.global_layer import DEFAULT_MIN_USERS, GlobalLayer
from confidante.tools.suggest.learned import LearnedScorer, shipped_scorer
from confidante.tools.suggest.profile import (
    DEFAULT_HALF_LIFE_DAYS,
    SESSION_GAP,
    Activity,
    UserProfile,
)
from confidante.tools.suggest.ranker import Ranker, Suggestion, Weights
from confidante.tools.suggest.text import normalise_query

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from confidante.memory.store import Memory

__all__ = [
    "ACTIVITY_KIND",
    "SuggestionStore",
    "activities_of",
    "activity_item",
    "current_conversation",
]

logger = logging.getLogger(__name__)

ACTIVITY_KIND = "search_activity"
_PREFIX = {"query": "Searched for: ", "click": "Read: ", "topic": "Talked about: "}


def activity_item(activity: Activity) -> MemoryItem:
    """Return the memory item that stores one occurrence of an activity."""
    text = normalise_query(activity.text) if activity.kind == "query" else activity.text.strip()
    return MemoryItem(
        text=_PREFIX[activity.kind] + text,
        kind=ACTIVITY_KIND,
        importance=0.2,
        provenance=[f"{activity.kind}@{activity.at.isoformat()}"],
        attributes={"activity": activity.kind, "text": text}
        | ({"entities": list(activity.extra_entities)} if activity.extra_entities else {}),
    )


def activities_of(attributes: dict[str, Any], provenance: Iterable[str]) -> list[Activity]:
    """Rebuild the occurrences of a stored activity item (entries it cannot read are skipped)."""
    kind, text = attributes.get("activity"), attributes.get("text")
    if kind not in _PREFIX or not isinstance(text, str) or not text.strip():
        return []
    extra = tuple(str(e) for e in attributes.get("entities") or () if str(e).strip())
    found: list[Activity] = []
    for entry in provenance:
        label, _, when = str(entry).partition("@")
        if label != kind:
            continue
        try:
            at = datetime.fromisoformat(when)
            found.append(Activity(text=text, at=at, kind=kind, extra_entities=extra))
        except (ValueError, InvalidInputError):
            continue
    return found


@dataclass
class _Cached:
    version: tuple[Watermark, Watermark]
    value: Any
    #: The user's latest chat messages, newest first (for a profile).
    messages: list[LoggedEvent] = field(default_factory=list)


#: Characters of a chat message read as a conversation topic.
TOPIC_CHARS = 1000
#: Messages of the conversation going on that a suggestion reads, at most.
CONVERSATION_MESSAGES = 5


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def current_conversation(messages: Sequence[LoggedEvent], now: datetime) -> list[str]:
    """Return the texts of the conversation going on, newest first.

    They are the user's latest messages (``messages``, newest first) back to the first pause
    longer than :data:`~.profile.SESSION_GAP`, provided the newest is that recent at ``now``;
    at most :data:`CONVERSATION_MESSAGES`.
    """
    found: list[str] = []
    later = _utc(now)
    for message in messages[:CONVERSATION_MESSAGES]:
        at = _utc(message.at)
        if later - at > SESSION_GAP:
            break
        found.append(message.text[:TOPIC_CHARS])
        later = at
    return found


def _conversation_topics(messages: Sequence[LoggedEvent]) -> list[Activity]:
    """The user's latest chat messages (events of role ``user``) as topics."""
    return [
        Activity(text=message.text[:TOPIC_CHARS], at=message.at, kind="topic")
        for message in messages
        if normalise_query(message.text[:TOPIC_CHARS])
    ]


def _activities(items: Iterable[KindItem]) -> list[Activity]:
    return [activity for i in items for activity in activities_of(i.attributes, i.provenance)]


class SuggestionStore:
    """Record users' search activity and suggest their next queries.

    Example:
        >>> store = SuggestionStore(memory)  # doctest: +SKIP
        >>> store.record("ana", [Activity("surf lisbon", datetime.now())])  # doctest: +SKIP
        >>> store.suggest("ana", ["surf lisbon"])[0].query  # doctest: +SKIP
    """

    def __init__(
        self,
        memory: Memory,
        *,
        weights: Weights | None = None,
        scorer: LearnedScorer | Literal["shipped"] | None = "shipped",
        half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
        min_users: int = DEFAULT_MIN_USERS,
        global_ttl_s: float = 60.0,
        conversation_topics: int = 200,
    ) -> None:
        """Create a store over a memory.

        Args:
            memory: The memory that keeps the activities.
            weights: Ranking weights (default: :class:`Weights`).
            scorer: The learned ranker (see :class:`~confidante.tools.suggest.ranker.Ranker`;
                None ranks by the weights).
            half_life_days: Time decay of the profiles.
            min_users: k of the global layer (see :mod:`~confidante.tools.suggest.global_layer`).
            global_ttl_s: Seconds during which the global layer is reused without checking the
                database (it changes slowly; any user's deletion through this store resets it).
                After them it is checked, and rebuilt if needed, in the background.
            conversation_topics: How many of the user's latest chat messages (the events of
                role ``user`` that the agent stores) count as conversation topics; 0: none.
        """
        self.memory = memory
        self.weights = weights or Weights()
        self.scorer = shipped_scorer() if scorer == "shipped" else scorer
        self.half_life_days = half_life_days
        self.min_users = min_users
        self.global_ttl_s = global_ttl_s
        self.conversation_topics = conversation_topics
        self._profiles: dict[str, _Cached] = {}
        self._global: _Cached | None = None
        self._global_checked = 0.0
        self._generation = 0  # bumped when the global layer must drop what it holds
        self._refresh: asyncio.Task[None] | None = None

    @property
    def _reads(self) -> BulkReads:
        return BulkReads(self.memory.database)

    # ----------------------------------------------------------------- writes
    async def arecord(self, user_id: str, activities: Sequence[Activity]) -> int:
        """Store a user's activities; returns how many occurrences were recorded."""
        check_user_id(user_id)
        if scope_of(user_id) != "user":
            raise InvalidInputError("activities belong to a user, not to a shared scope")
        items = [activity_item(activity) for activity in activities]
        if items:
            await self.memory.aremember_many(user_id, items)
        return len(items)

    async def aforget_user(self, user_id: str) -> dict[str, int]:
        """Forget everything of a user (``Memory.aforget_user``) and drop the derived caches."""
        counts = await self.memory.aforget_user(user_id)
        self._profiles.pop(user_id, None)
        self._drop_global()
        return counts

    def _drop_global(self) -> None:
        """Forget the global layer, and any rebuild begun before (it may hold deleted data)."""
        self._global = None
        self._generation += 1

    # ------------------------------------------------------------------ reads
    async def aprofile(self, user_id: str) -> UserProfile:
        """Return the user's aggregated store (rebuilt when their activities changed).

        One database round trip: the version of the user's activities and chat messages (one
        statement), and only when it changed, the activities and the latest messages.
        """
        check_user_id(user_id)
        cached = self._profiles.get(user_id)
        snapshot = await self._reads.aitems_of_kind(
            user_id,
            ACTIVITY_KIND,
            messages=max(self.conversation_topics, 0),
            known=cached.version if cached is not None else None,
        )
        if snapshot.items is None and cached is not None:
            return cached.value  # type: ignore[no-any-return]
        if cached is not None and snapshot.version[0].count < cached.version[0].count:
            self._drop_global()  # something was forgotten: the global layer may include it
        activities = _activities(snapshot.items or []) + _conversation_topics(snapshot.messages)
        profile = UserProfile.build(activities, half_life_days=self.half_life_days)
        self._profiles[user_id] = _Cached(snapshot.version, profile, list(snapshot.messages))
        return profile

    async def aglobal_layer(self) -> GlobalLayer:
        """Return the k-anonymous global layer over every user's activities.

        The first call builds it. Later, once ``global_ttl_s`` has passed, a call returns the
        layer it has and checks the database in the background, rebuilding the layer there
        when any user's activities changed: no suggestion waits for a rebuild (0.4 to 0.7 s on
        the AOL dev file). A deletion through this store (:meth:`aforget_user`, or a profile
        that lost items) drops the layer instead: the next call rebuilds it before answering,
        and a background rebuild begun earlier is discarded.
        """
        if self._global is None:
            return await self._rebuild_global(self._generation)
        if time.monotonic() - self._global_checked >= self.global_ttl_s:
            running = self._refresh
            loop = asyncio.get_running_loop()
            if running is None or running.done() or running.get_loop() is not loop:
                self._global_checked = time.monotonic()
                self._refresh = loop.create_task(self._background_refresh(self._generation))
        return self._global.value  # type: ignore[no-any-return]

    async def _background_refresh(self, generation: int) -> None:
        try:
            await self._rebuild_global(generation)
        except Exception:  # the layer in use stays; the next check after the TTL tries again
            logger.exception("could not refresh the global suggestion layer")

    async def _rebuild_global(self, generation: int) -> GlobalLayer:
        """Read the activities if they changed since the cached layer, and rebuild it."""
        known = self._global
        snapshot = await self._reads.aevery_user_items_of_kind(
            ACTIVITY_KIND, known=known.version if known is not None else None
        )
        if snapshot.items is None and known is not None:
            self._global_checked = time.monotonic()
            return known.value  # type: ignore[no-any-return]
        by_user: dict[str, list[Activity]] = defaultdict(list)
        for item in snapshot.items or []:
            by_user[item.user_id] += activities_of(item.attributes, item.provenance)
        layer = await asyncio.to_thread(GlobalLayer.build, by_user, min_users=self.min_users)
        if generation == self._generation:  # nothing was forgotten meanwhile
            self._global = _Cached(snapshot.version, layer)
            self._global_checked = time.monotonic()
        return layer

    async def asuggest(
        self,
        user_id: str,
        session: Sequence[str],
        k: int = 10,
        *,
        model: BaseChatModel | None = None,
        include_session: bool = True,
        conversation: bool = False,
    ) -> list[Suggestion]:
        """Suggest the user's next ``k`` queries after the session's queries (oldest first).

        Args:
            user_id: Whose store to use; no other user's store is read.
            session: The queries of the current session so far.
            k: How many suggestions.
            model: A chat model that reranks and may rewrite the candidates (structured
                output, see :mod:`~confidante.tools.suggest.rerank`); None keeps the fast
                ranking.
            include_session: Also suggest the session's own queries again.
            conversation: Fit what the user just said in the chat (see
                :func:`current_conversation`; needs ``conversation_topics``).
        """
        check_user_id(user_id)
        if k <= 0:
            raise InvalidInputError("k must be positive")
        profile = await self.aprofile(user_id)
        topics: list[str] = []
        if conversation and user_id in self._profiles:
            topics = current_conversation(self._profiles[user_id].messages, datetime.now(UTC))
        ranker = Ranker(await self.aglobal_layer(), self.weights, scorer=self.scorer)
        pool = 2 * k if model is not None else k
        suggestions = ranker.suggest(
            list(session), profile, pool, include_session=include_session, topics=topics
        )
        if model is None:
            return suggestions
        from confidante.tools.suggest.rerank import arerank

        summary = await self.memory.asummary(user_id, "search")
        summary_text = summary.text if summary is not None and summary.usable else ""
        return await arerank(model, session, profile, summary_text, suggestions, k)

    record = sync_twin(arecord)
    forget_user = sync_twin(aforget_user)
    profile = sync_twin(aprofile)
    global_layer = sync_twin(aglobal_layer)
    suggest = sync_twin(asuggest)
