"""The nodes of the agent graph: recall, route, plan, act, respond, remember.

Each node is an async method of :class:`Nodes`, which holds the injected dependencies (memory,
chat model, tools). A node reads the fields of :class:`~confidante.graphs.state.AgentState` it
needs and returns only the fields it writes. ``act`` and its edge live in
:mod:`confidante.graphs.act`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool

from confidante.errors import ConfidanteError
from confidante.graphs import act as act_module
from confidante.graphs import prompts
from confidante.graphs.events import emit
from confidante.graphs.grounding import (
    addressed,
    asks_about_the_user,
    bears_on,
    of_the_kind_asked,
    only_tells,
)
from confidante.graphs.named_questions import (
    asks_about_someone,
    callers,
    knows_of_someone,
    loose_names,
)
from confidante.graphs.outcomes import remember_decisions
from confidante.graphs.recalled import (
    cited,
    current_and_ended,
    merge_hits,
    replacements,
    slot_facts,
    with_links,
)
from confidante.graphs.reply_checks import settle_reply
from confidante.graphs.router import CHAT, Router
from confidante.graphs.safety import reminder
from confidante.graphs.state import AgentState, fresh_turn
from confidante.graphs.tool_journal import ToolJournal
from confidante.graphs.values import RecalledItem, ToolResult, recalled_of, results_of
from confidante.memory.ingest.learning import learn
from confidante.memory.secrets import removed_kinds, withheld_note
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import mentioned_in
from confidante.memory.summaries.facts import pick_summary

logger = logging.getLogger(__name__)

FALLBACK_REPLY = "Sorry, I could not produce an answer just now. Please try again."
#: Tag on the model call that writes the reply: stream consumers show its tokens.
REPLY_TAG = "confidante:reply"
_REFERS_BACK = re.compile(r"\b(it|its|that|this|they|them|he|she|her|him|there|one)\b", re.I)

QueryMaker = Callable[[AgentState], list[str]]


@dataclass
class GraphDeps:
    """What the nodes need, injected by the builder.

    Attributes:
        memory: The personal memory.
        model: The chat model (M).
        tools: Tools available to tasks.
        recall_k: Memories retrieved per turn.
        budget_tokens: Prompt tokens allowed for memories and recent conversation.
        max_attempts: Plans tried per task before giving up.
        background_extraction: Extract facts after the turn ends instead of within it (the
            reply never waits for extraction); ``pending`` holds the running extractions.
        make_queries: phi_q, the retrieval queries of a turn (default: :func:`turn_queries`).
        window_messages: Messages of the session the checkpointed state keeps (see
            :func:`window_trim`).
        router: Decides chat or task without a model call (default: a
            :class:`~confidante.graphs.router.Router` over the memory's embedder).
    """

    memory: Memory
    model: BaseChatModel
    tools: list[BaseTool] = field(default_factory=list)
    recall_k: int = 6
    budget_tokens: int = 1200
    max_attempts: int = 2
    background_extraction: bool = False
    pending: set[asyncio.Task[list[dict[str, Any]]]] = field(default_factory=set)
    make_queries: QueryMaker | None = None
    window_messages: int = 40
    router: Router | None = None


def last_user_text(state: AgentState) -> str:
    """Return the text of the latest human message in the state."""
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message.text
    raise ConfidanteError("the graph was invoked without a user message")


def turn_queries(state: AgentState) -> list[str]:
    """phi_q: the retrieval queries of a turn.

    The message itself, plus (when the message refers back with a pronoun, or is short) the
    message joined to the user's previous message in the session, so "and where does she
    live?" also searches with the name it stands for.
    """
    text = last_user_text(state)
    earlier = [m.text for m in state.get("messages", [])[:-1] if isinstance(m, HumanMessage)]
    queries = [text]
    if earlier and (_REFERS_BACK.search(text) or len(text.split()) <= 4):
        queries.append(f"{earlier[-1]} {text}")
    return queries


def window_trim(messages: Sequence[AnyMessage], adding: int, window: int) -> list[RemoveMessage]:
    """Removals that keep the session's state to its last ``window`` messages.

    Every graph step checkpoints the whole state, so a session whose messages only grew would
    cost time and disk in proportion to its length at each step (and its checkpoint file would
    grow with the square of it). The reply prompt reads the last 8 messages and phi_q the
    previous user message, so a window of a few dozen loses nothing a turn uses; older
    messages stay in the session's earlier checkpoints, and the user's in the event log.

    Args:
        messages: The state's messages before this update.
        adding: How many messages the update appends.
        window: Messages to keep (at least 2).
    """
    extra = len(messages) + adding - max(window, 2)
    return [RemoveMessage(id=m.id) for m in messages[: max(extra, 0)] if m.id]


async def settled(*tasks: Awaitable[Any]) -> list[Any]:
    """Await every task, then return their results or raise the first failure.

    Awaiting tasks one after another would leave the later ones unawaited when an earlier one
    raises (their errors lost, "Task exception was never retrieved"). An
    :class:`asyncio.TaskGroup` would await them all too, but it cancels the others at the
    first failure (the raw turn's write among them) and raises an ``ExceptionGroup``, which
    the callers' ``except ConfidanteError`` (the server's error mapping) would not catch. So
    the first failure is raised as it is and any further one is logged.
    """
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    for failure in failures[1:]:
        logger.error("a concurrent part of the turn failed too: %r", failure, exc_info=failure)
    if failures:
        raise failures[0]
    return outcomes


class Nodes:
    """The graph's nodes over injected dependencies."""

    def __init__(self, deps: GraphDeps) -> None:
        self.deps = deps
        self._planning: tuple[tuple[BaseTool, ...], Any] | None = None
        self._journal: ToolJournal | None = None

    async def recall(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Store the raw turn, then retrieve the memories relevant to it (phi_q + A).

        Also fetches the user's offline summary for the task the message fits (tastes →
        ``recommendation``, pictures → ``image``, searches → ``search``, else ``chat``; the
        ``chat`` one when that task has none), used while nothing it was built from has been
        edited or forgotten since (see :func:`~confidante.memory.summaries.facts.pick_summary`).
        A superseded fact the message's words reach brings what replaced it (see
        :meth:`~confidante.memory.store.Memory.asuccessors`), and the facts of the subjects the
        message names ("Ana", "my sister") join the retrieved memories (see
        :mod:`confidante.memory.subjects.directory`), each memory about someone is labeled with
        whom, and the user's safety facts are fetched for the reply.
        """
        memory, user_id, text = self.deps.memory, state["user_id"], last_user_text(state)
        thread = str((config.get("configurable") or {}).get("thread_id", "default"))
        queries = (self.deps.make_queries or turn_queries)(state) or [text]
        # independent reads and the raw turn's write run concurrently
        writing = asyncio.ensure_future(
            memory.arecord_event(user_id, "user", text, session_id=thread)
        )
        reading = asyncio.ensure_future(pick_summary(memory, user_id, text))
        safety = asyncio.ensure_future(memory.aslot_values(user_id, memory.slots.safety()))
        knowing = asyncio.ensure_future(memory.asubjects(user_id))
        try:  # all queries in one pass: one embedding call, one read of the candidates
            found, ended = current_and_ended(  # history too: what replaced it is now true
                await memory.aretrieve_many(
                    user_id, queries, k=2 * self.deps.recall_k, include_history=True
                ),
                self.deps.recall_k,
            )
            subjects = await knowing
            named = mentioned_in(subjects, " ".join(queries))
            replacing = await replacements(memory, user_id, ended)
            linked = await slot_facts(memory, user_id, text, named)
            linked += await memory.asubject_facts(user_id, [s.id for s in named], limit=4)
        finally:  # never leave the write or the reads running unobserved (see settled)
            outcomes = await settled(writing, reading, safety, knowing)
        event_id, (summary_task, summary), safety_facts, subjects = outcomes
        labels = {subject.id: subject.label for subject in subjects}
        recalled = with_links(
            [RecalledItem.from_hit(hit) for hit in merge_hits(found, self.deps.recall_k)],
            [*replacing, *(RecalledItem.from_hit(hit) for hit in linked)],
        )
        instead = {item.id: item.instead_of for item in replacing}  # retrieved ones too
        recalled = [
            item.model_copy(
                update={
                    "about": labels.get(item.subject_id or "", item.about),
                    "instead_of": instead.get(item.id, item.instead_of),
                }
            )
            for item in recalled
        ]
        emit({"event": "recalled", "items": [item.wire() for item in recalled], "queries": queries})
        return {
            "event_id": event_id,
            "queries": queries,
            "recalled": recalled,
            "summary": summary,
            "summary_task": summary_task,
            "safety": [{"text": f.text, "key": f.key} for f in safety_facts],
            **fresh_turn(),
        }

    async def route(self, state: AgentState) -> dict[str, Any]:
        """Decide whether the turn is conversation or a task, without a model call.

        See :mod:`confidante.graphs.router`; any failure of the router answers as chat (the
        turn's statements are learned either way). For a task, ``route_tool`` names the tool
        the router picked: the planner is told (a hint, not a constraint).
        """
        if not self.deps.tools:
            return {"route": "chat", "route_tool": ""}
        if self.deps.router is None:
            self.deps.router = Router(self.deps.memory.embedder)
        router, tools = self.deps.router, list(self.deps.tools)
        try:
            label = await asyncio.to_thread(router.label, last_user_text(state), tools)
        except Exception as exc:  # noqa: BLE001 - routing must never fail a turn
            logger.warning("routing failed, answering as chat: %s", type(exc).__name__)
            return {"route": "chat", "route_tool": ""}
        if label == CHAT:
            return {"route": "chat", "route_tool": ""}
        return {"route": "task", "route_tool": label}

    async def plan(self, state: AgentState) -> dict[str, Any]:
        """Turn the request into ordered tool steps (replanning after failures)."""
        failures = [r for r in results_of(state.get("results")) if not r.ok]
        messages = prompts.plan_messages(
            self.deps.tools,
            last_user_text(state),
            recalled_of(state.get("recalled")),
            failures,
            likely=state.get("route_tool", ""),
        )
        attempts = state.get("attempts", 0) + 1
        try:
            plan: Any = await self._planner().ainvoke(messages)
        except Exception as exc:  # noqa: BLE001 - any model failure goes back to the check
            failure = ToolResult(tool="plan", ok=False, output=f"could not plan: {exc}")
            return {"plan": [], "step": 0, "results": [failure], "attempts": attempts}
        steps = [step.model_dump(mode="json") for step in plan.steps]
        emit({"event": "planned", "steps": steps})
        return {"plan": steps, "step": 0, "results": [], "attempts": attempts}

    def _planner(self) -> Any:
        """The model asked for a plan over the current tools (built again when they change)."""
        tools = tuple(self.deps.tools)
        cached = self._planning
        if (
            cached is None
            or len(cached[0]) != len(tools)
            or any(old is not new for old, new in zip(cached[0], tools, strict=True))
        ):
            schema = prompts.plan_schema(tools)
            cached = self._planning = (tools, self.deps.model.with_structured_output(schema))
        return cached[1]

    async def act(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Run the plan's next step(s); see :mod:`confidante.graphs.act`."""
        if self._journal is None:
            self._journal = ToolJournal(self.deps.memory.database)
        return await act_module.act(self.deps.tools, state, config, self._journal)

    def check(self, state: AgentState) -> str:
        """Edge after ``act``: the next step, replan when a step failed, else respond."""
        return act_module.after_act(state, self.deps.max_attempts)

    async def respond(self, state: AgentState) -> dict[str, Any]:
        """Answer the user with the personalised prompt (phi_p then M).

        The reply is checked before it is sent: an answer about the user's own life that names
        what the prompt never showed is replaced by "I don't know" (see
        :mod:`confidante.graphs.grounding`), and one that ignores a safety fact the message
        touches gets a reminder of it appended (see :mod:`confidante.graphs.safety`). When
        secrets were removed from the message (its placeholders, see
        :mod:`confidante.memory.secrets`), the reply ends by saying they were not kept.
        ``used`` lists the ids of the memories the reply relied on (see :func:`cited`).
        """
        asked, memory = last_user_text(state), self.deps.memory
        recalled = recalled_of(state.get("recalled"))
        checked = asks_about_the_user(asked)  # checked whole before it is shown: not streamed
        unknown = checked and not bears_on(asked, recalled, state.get("summary", ""), memory.slots)
        if unknown:  # a slot the user once gave has news in other words ("I'm at the library")
            slots = memory.slots.asked_in(asked, about_user=True)
            unknown = not await memory.ahad_slot(state["user_id"], slots)
        # a question about someone ("what does Tavita study?", "where does my brother live?")
        # is checked whole too
        named = list(dict.fromkeys(c for item in recalled for c in callers(item.about)))
        named += loose_names(asked, recalled)  # "does Tiago ...?" where items mention him
        someone = asks_about_someone(asked, named)
        # not said to the model (it may answer in words the check does not see): checked after
        doubtful = someone and not knows_of_someone(asked, recalled, memory.slots)
        messages, carried = prompts.respond_prompt(
            state.get("messages", []),
            of_the_kind_asked(asked, recalled) if checked else recalled,
            results_of(state.get("results")),
            self.deps.budget_tokens,
            summary=state.get("summary", ""),
            safety=state.get("safety", []),
            unknown=unknown,
            telling=only_tells(asked),
        )
        try:
            tags = [] if checked or someone else [REPLY_TAG]
            answer = await self.deps.model.ainvoke(messages, config={"tags": tags})
            reply = answer.text.strip() or FALLBACK_REPLY
        except Exception as exc:  # noqa: BLE001 - the turn must end with a message
            logger.error("chat model failed: %s", exc)
            reply = FALLBACK_REPLY
        if checked:  # a streamed reply is left as the user saw it
            reply = addressed(reply)
        if reply != FALLBACK_REPLY and (checked or someone):  # made up, no answer, refused
            reply, why = settle_reply(
                reply,
                asked=asked,
                shown=[m.text for m in messages],
                recalled=recalled,
                unknown=unknown,
                doubtful=doubtful,
                slots=memory.slots,
            )
            if why is not None:
                emit(why)
        warning = reminder(asked, reply, state.get("safety", []), named)
        if warning and reply != FALLBACK_REPLY:
            reply = f"{reply} {warning}"
            emit({"event": "safety", "reminder": warning})
        used = [item.id for item in cited(reply, carried)] if reply != FALLBACK_REPLY else []
        withheld = removed_kinds(asked)
        if withheld:
            note = withheld_note(withheld)
            reply = f"{reply} {note}"
            emit({"event": "withheld", "kinds": withheld, "note": note})
        trimmed = window_trim(state.get("messages", []), 1, self.deps.window_messages)
        return {"messages": [*trimmed, AIMessage(reply)], "reply": reply, "used": used}

    async def remember(self, state: AgentState) -> dict[str, Any]:
        """Learn what the user's message states and write it to memory, whatever the route.

        A task's message may state facts too ("We got a second cat, Pixel — remind me to buy
        a bigger litter box"): extraction reads its statements and ignores its requests. After
        a task, the user's decisions on side-effecting calls are remembered as well (see
        :mod:`confidante.graphs.outcomes`). A failed extraction is recorded on the stored raw
        turn (``extraction=failed``), never lost.
        """
        memory, user_id, event_id = self.deps.memory, state["user_id"], state["event_id"]
        text = last_user_text(state)
        decisions: list[dict[str, Any]] = []
        if state.get("route") == "task":
            decisions = await remember_decisions(memory, state)
        if self.deps.background_extraction:
            task = asyncio.create_task(learn(memory, self.deps.model, user_id, event_id, text))
            self.deps.pending.add(task)
            task.add_done_callback(self.deps.pending.discard)
            emit({"event": "remembering", "event_id": event_id})
            return {"remembered": decisions}
        remembered = [*await learn(memory, self.deps.model, user_id, event_id, text), *decisions]
        emit({"event": "remembered", "items": remembered})
        return {"remembered": remembered}
