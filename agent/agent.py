"""The facade: ``Agent(user_id=...).chat(text)`` talks to an assistant that remembers.

An :class:`Agent` is one user's view of the assistant. It owns (or is given) the memory, the
chat model, the tools and the checkpointer, builds the graph once, and runs one graph turn
per message. ``achat``/``aturn`` are the async core; ``chat``/``turn`` their sync twins.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Self

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.tools import BaseTool
from langgraph.types import Command

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError
from confidante.graphs.builder import GraphBuilder
from confidante.graphs.checkpoint import LoopGraphs
from confidante.graphs.nodes import GraphDeps
from confidante.graphs.router import Router
from confidante.graphs.values import DECISIONS, ApprovalDecision, plain_state
from confidante.memory.ingest.learning import learn
from confidante.memory.items import check_person_id
from confidante.memory.secrets import redact, refusal_reply, screen_json, withheld_note
from confidante.memory.store import Memory, check_text
from confidante.models import build_chat_model
from confidante.runs import DURABILITY, INTERRUPT, stream_run
from confidante.settings import Settings
from confidante.threads import session_of_thread, thread_id_for, user_of_thread
from confidante.tools.memory_tools import forget_tool, memory_tools
from confidante.turns import Approval, TurnResult, as_approval
from confidante.usage import Usage, UsageRecorder
from confidante.usage_log import UsageLog


class Agent:
    """A personal assistant for one user.

    Args:
        user_id: Whose memory every turn reads and writes.
        settings: Configuration (default: read from ``CONFIDANTE_*`` variables).
        model: A langchain-core chat model (default: the one the settings name).
        memory: A memory store (default: the settings' database).
        tools: Extra tools for tasks, added to the built-in memory tools (search, reminders,
            ``forget_memory``).
        session_id: The conversation thread; the same id resumes the conversation.
        background_extraction: Learn facts from a message after its turn has returned, so a
            reply never waits for extraction; :meth:`aflush` waits for what is pending.
        graph: Changes to the default graph (nodes, subgraphs, state fields, tools); see
            :class:`~confidante.graphs.builder.GraphBuilder`.

    Side-effecting tools (:func:`~confidante.tools.factory.has_side_effect`) pause the turn: its
    :class:`TurnResult` lists ``approvals`` and :meth:`aresume` continues it. A turn whose
    process died is continued by :meth:`aresume_task`; a new message on a thread with a
    paused or unfinished turn abandons that turn.

    Secrets in a message (card numbers, IBANs, passwords, API keys; see
    :mod:`confidante.memory.secrets`) follow the settings' ``secret_policy`` before the graph
    sees the message, so none reaches a checkpoint, the model or the memory: ``redact``
    replaces each with a placeholder and the reply ends by saying so, ``refuse`` keeps nothing
    of the message and replies that it was not kept. (The memory applies its own policy to
    every write too.)

    Close it when done (:meth:`aclose` / :meth:`close`, or ``async with`` / ``with``): that
    closes its checkpoint connections, and the memory when the agent opened it.
    """

    def __init__(
        self,
        user_id: str,
        *,
        settings: Settings | None = None,
        model: BaseChatModel | None = None,
        memory: Memory | None = None,
        tools: Sequence[BaseTool] = (),
        session_id: str = "default",
        background_extraction: bool = False,
        graph: GraphBuilder | None = None,
    ) -> None:
        self.user_id = check_person_id(user_id)
        self.session_id = session_id
        self.settings = settings or Settings()
        self.settings.ensure_dirs()
        self._owns_memory = memory is None
        self.memory = memory or Memory.open(settings=self.settings)
        self.model = model or build_chat_model(self.settings)
        self.builder = graph or GraphBuilder()
        self.tools = [
            *memory_tools(self.memory),
            forget_tool(self.memory),
            *tools,
            *self.builder.tools,
        ]
        self.deps = GraphDeps(
            memory=self.memory,
            model=self.model,
            tools=self.tools,
            recall_k=self.settings.recall_k,
            window_messages=self.settings.session_window,
            background_extraction=background_extraction,
            router=Router(self.memory.embedder, self.settings.cache_dir),
        )
        self.usage_log = UsageLog(self.memory.database)
        self._graphs = LoopGraphs(
            self.settings, lambda saver: self.builder.build(self.deps, checkpointer=saver)
        )

    async def _ensure_graph(self) -> Any:
        return (await self._graphs.aget()).graph

    def _config(
        self, session_id: str | None, recorder: UsageRecorder | None = None
    ) -> dict[str, Any]:
        thread = thread_id_for(self.user_id, session_id or self.session_id)
        config: dict[str, Any] = {"configurable": {"thread_id": thread, "user_id": self.user_id}}
        if recorder is not None:  # every model call of the run reports to it
            config["callbacks"] = [recorder]
        return config

    def _screen(self, text: str) -> tuple[str, list[str]]:
        """The message under the secret policy, and the kinds of secret it held (redacted)."""
        text = check_text(text, "message")
        if self.settings.secret_policy == "allow":
            return text, []
        return redact(text)

    def _refused(self, withheld: list[str]) -> bool:
        return bool(withheld) and self.settings.secret_policy == "refuse"

    def _input(self, message: str) -> dict[str, Any]:
        return {"messages": [HumanMessage(message)], "user_id": self.user_id}

    async def _run(self, graph_input: Any, session_id: str | None) -> TurnResult:
        graph = await self._ensure_graph()
        recorder = UsageRecorder()
        config = self._config(session_id, recorder)
        try:
            output = await graph.ainvoke(graph_input, config=config, durability=DURABILITY)
        finally:
            usage = await self._kept(recorder)
        if isinstance(output, dict) and INTERRUPT not in output:
            result = TurnResult.of(output, [])  # the turn finished: its last values are the state
        else:
            snapshot = await graph.aget_state(config)  # paused: the checkpoint lists the pauses
            result = TurnResult.of(snapshot.values, self._approvals(snapshot, session_id))
        return result.model_copy(update={"usage": usage})

    async def _kept(self, recorder: UsageRecorder) -> Usage:
        """Close a turn's recorder and log its usage (see :meth:`UsageLog.akeep`)."""
        return await self.usage_log.akeep(self.user_id, recorder)

    def _approvals(self, snapshot: Any, session_id: str | None) -> list[Approval]:
        session = session_id or self.session_id
        return [as_approval(pause, session) for pause in snapshot.interrupts]

    async def aturn(self, text: str, *, session_id: str | None = None) -> TurnResult:
        """Run one turn and return everything it did (or the approvals it waits for).

        A message with a secret is redacted first (``withheld`` lists what was removed), or
        under ``secret_policy="refuse"`` not run at all: the reply says it was not kept.
        """
        message, withheld = self._screen(text)
        if self._refused(withheld):
            return TurnResult(reply=refusal_reply(withheld), withheld=withheld)
        result = await self._run(self._input(message), session_id)
        reply = result.reply
        if withheld and result.approvals:  # paused before respond, which would have said it
            reply = f"{reply} {withheld_note(withheld)}"
        return result.model_copy(update={"withheld": withheld, "reply": reply})

    async def achat(self, text: str, *, session_id: str | None = None) -> str:
        """Send a message and return the assistant's reply."""
        return (await self.aturn(text, session_id=session_id)).reply

    async def apending(self, session_id: str | None = None) -> list[Approval]:
        """Return the tool calls of the session waiting for approval (empty when none)."""
        graph = await self._ensure_graph()
        snapshot = await graph.aget_state(self._config(session_id))
        return self._approvals(snapshot, session_id)

    async def apending_everywhere(self) -> list[Approval]:
        """Return the calls waiting for approval in any of the user's sessions.

        The agent's own session and the 100 the user last wrote in (the web page's ``web``, an
        API client's ``X-Session-Id``...), most recent first.
        """
        threads = await self.memory.asession_ids(self.user_id)
        sessions = [session_of_thread(self.user_id, thread) for thread in threads]
        found: list[Approval] = []
        for session in dict.fromkeys([self.session_id, *filter(None, sessions)]):
            found += await self.apending(session)
        return found

    async def astate(self, session_id: str | None = None) -> dict[str, Any]:
        """Return the session's checkpointed graph state (typed values as dicts, as in turns)."""
        graph = await self._ensure_graph()
        return plain_state((await graph.aget_state(self._config(session_id))).values)

    async def _resume_command(
        self, decision: str, args: dict[str, Any] | None, session_id: str | None
    ) -> Command[Any]:
        if decision not in DECISIONS:
            raise InvalidInputError(f"decision must be one of {DECISIONS}, not {decision!r}")
        if decision == "edit" and args is None:
            raise InvalidInputError("an 'edit' decision needs args= (the new arguments)")
        if args is not None:  # typed by the user: no secret goes to a tool or its journal
            args = screen_json(args, self.settings.secret_policy, "arguments")
        pending = await self.apending(session_id)
        if not pending:
            raise InvalidInputError("nothing is waiting for approval in this session")
        value = ApprovalDecision.parse({"decision": decision, "args": args}).resume_value()
        return Command(resume={pending[0].id: value})

    async def aresume(
        self,
        decision: Literal["approve", "edit", "reject"],
        *,
        args: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> TurnResult:
        """Decide on the first pending approval and continue the paused turn.

        Args:
            decision: ``approve`` runs the call, ``edit`` runs it with ``args`` instead,
                ``reject`` skips it (the reply says so).
            args: The new arguments (``edit`` only).
            session_id: The paused session (default: the agent's).

        Raises:
            InvalidInputError: Nothing is waiting, an unknown decision, or ``edit`` without args.
        """
        command = await self._resume_command(decision, args, session_id)
        return await self._run(command, session_id)

    async def aresume_task(self, session_id: str | None = None) -> TurnResult | None:
        """Continue a turn that stopped before its end (its process died) from its checkpoint.

        Steps already checkpointed are not run again; a side-effecting call that completed is
        never repeated (see :mod:`confidante.graphs.act`).

        Returns:
            The turn's result, or None when the session has no unfinished turn. A turn paused
            for approval is returned as it is (with its ``approvals``), not continued.
        """
        graph = await self._ensure_graph()
        config = self._config(session_id)
        snapshot = await graph.aget_state(config)
        if not snapshot.next:
            return None
        approvals = self._approvals(snapshot, session_id)
        if approvals:
            return TurnResult.of(snapshot.values, approvals)
        return await self._run(None, session_id)

    async def astream(
        self, text: str | None = None, *, session_id: str | None = None, resume: Any = None
    ) -> AsyncIterator[tuple[str, Any]]:
        """Run a turn (or continue a paused one) and yield what happens as it happens.

        Yields ``(kind, data)`` pairs:

        - ``("token", {"node", "text"})``: a piece of the reply as the model writes it;
        - ``("updates", {node: update})``: a node finished (node progress);
        - ``("custom", {"event": ...})``: memory and tool events, see
          :mod:`confidante.graphs.events` (``recalled``, ``remembered``, ``forgotten``...);
        - ``("approval", Approval)``: the turn paused for approval; continue with
          ``astream(resume={"decision": ...})`` or :meth:`aresume`;
        - ``("usage", Usage)``: last, the model calls, tokens and seconds of the turn (see
          :mod:`confidante.usage`).

        A message refused for a secret (``secret_policy="refuse"``) yields a ``withheld``
        custom event and the refusal as the ``respond`` update's reply, and runs nothing.

        Args:
            text: The user's message (None with ``resume``).
            session_id: The session (default: the agent's).
            resume: A decision for the pending approval: ``{"decision": "approve"}``,
                ``{"decision": "edit", "args": {...}}`` or ``{"decision": "reject"}``.
        """
        if resume is not None:
            decision = resume.get("decision") if isinstance(resume, dict) else resume
            args = resume.get("args") if isinstance(resume, dict) else None
            graph_input: Any = await self._resume_command(str(decision), args, session_id)
        elif text is not None:
            message, withheld = self._screen(text)
            if self._refused(withheld):
                yield "custom", {"event": "withheld", "kinds": withheld, "refused": True}
                yield "updates", {"respond": {"reply": refusal_reply(withheld)}}
                yield "usage", Usage()
                return
            graph_input = self._input(message)
        else:
            raise InvalidInputError("astream needs a message or a resume decision")
        graph = await self._ensure_graph()
        recorder = UsageRecorder()
        config = self._config(session_id, recorder)
        async for kind, data in stream_run(
            graph, graph_input, config, session_id or self.session_id
        ):
            yield kind, data
        yield "usage", await self._kept(recorder)

    async def aforget_user(self) -> dict[str, int]:
        """Erase this user's memory, conversation checkpoints and usage log."""
        checkpoints = (await self._graphs.aget()).checkpoints
        counts = await self.memory.aforget_user(self.user_id)
        threads = await checkpoints.athreads()
        mine = [thread for thread in threads if user_of_thread(thread) == self.user_id]
        await checkpoints.adelete_threads(mine)
        counts["checkpoint_threads"] = len(mine)
        counts["confidante_usage"] = await self.usage_log.adelete_user(self.user_id)
        return counts

    async def aflush(self) -> None:
        """Wait until every fact extraction running in the background has finished."""
        while self.deps.pending:
            await asyncio.gather(*list(self.deps.pending), return_exceptions=True)

    async def aretry_extractions(self, limit: int = 50, *, stale_after_s: float = 300.0) -> int:
        """Learn again from this user's turns that were not learned from; returns how many.

        Those are turns whose extraction failed, and turns still ``pending`` after
        ``stale_after_s`` seconds (the process handling them died before it finished).
        """
        failed = await self.memory.aevents(
            self.user_id, extraction=["failed"], role="user", limit=limit
        )
        cutoff = datetime.now(UTC) - timedelta(seconds=stale_after_s)
        stuck = await self.memory.aevents(
            self.user_id, extraction=["pending"], role="user", limit=limit, before=cutoff
        )
        for event in [*failed, *stuck]:
            await learn(self.memory, self.model, self.user_id, event.id, event.text)
        return len(failed) + len(stuck)

    async def aclose(self) -> None:
        """Wait for background extractions, then close what the agent opened.

        That is the checkpoints of each event loop that ran it (sync and ``await`` calls use
        different loops), and the memory unless it was given one. A later turn reopens them.
        """
        await self.aflush()
        await self._graphs.aclose()
        if self._owns_memory:
            self.memory.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    turn = sync_twin(aturn)
    chat = sync_twin(achat)
    pending = sync_twin(apending)
    pending_everywhere = sync_twin(apending_everywhere)
    state = sync_twin(astate)
    resume = sync_twin(aresume)
    resume_task = sync_twin(aresume_task)
    forget_user = sync_twin(aforget_user)
    flush = sync_twin(aflush)
    retry_extractions = sync_twin(aretry_extractions)
    close = sync_twin(aclose)


__all__ = ["Agent", "Approval", "TurnResult", "as_approval", "thread_id_for"]
