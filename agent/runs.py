"""How the agent runs its graph: checkpoint durability, and a streamed run as the agent's events.

:class:`~confidante.agent.Agent` invokes or streams the compiled graph with :data:`DURABILITY`;
:func:`stream_run` turns the graph's stream into the ``(kind, data)`` pairs of
:meth:`~confidante.agent.Agent.astream` (reply tokens, node updates, custom events, approvals).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from confidante.graphs.nodes import REPLY_TAG
from confidante.turns import as_approval

#: LangGraph checkpoints each step while the next one starts. A side-effecting step always
#: runs alone and is followed by a pause or by its checkpoint, so a crash can repeat it only
#: if the process dies between the call's end and its checkpoint's commit (milliseconds).
DURABILITY = "async"
#: The key under which ``ainvoke`` returns the pauses of an interrupted run.
INTERRUPT = "__interrupt__"
#: Custom events whose sentence ends the reply, with the field that holds it.
_APPENDED = {"safety": "reminder", "withheld": "note"}


async def stream_run(
    graph: Any, graph_input: Any, config: dict[str, Any], session_id: str
) -> AsyncIterator[tuple[str, Any]]:
    """Run the graph streamed and yield what happens, as :meth:`Agent.astream` describes.

    Args:
        graph: The compiled graph.
        graph_input: The turn's input, or a resume ``Command``.
        config: The run's config (thread, user, callbacks).
        session_id: The session the approvals of a pause belong to.

    Yields:
        ``("token", ...)``, ``("updates", ...)``, ``("custom", ...)`` and ``("approval", ...)``
        pairs; a sentence appended to a streamed reply (a safety reminder, the note on
        withheld secrets) is also yielded as its last token.
    """
    streamed = False  # whether the reply came as tokens (a reminder then follows as one)
    async for mode, chunk in graph.astream(
        graph_input,
        config=config,
        stream_mode=["updates", "messages", "custom"],
        durability=DURABILITY,
    ):
        if mode == "messages":
            message, metadata = chunk
            if REPLY_TAG in (metadata.get("tags") or []) and message.text:
                streamed = True
                yield "token", {"node": metadata.get("langgraph_node"), "text": message.text}
        elif mode == "custom" and isinstance(chunk, dict) and chunk.get("event") in _APPENDED:
            if streamed:  # a sentence appended to a streamed reply goes out as its end
                appended = str(chunk[_APPENDED[chunk["event"]]])
                yield "token", {"node": "respond", "text": " " + appended}
            yield mode, chunk
        elif mode == "updates" and INTERRUPT in chunk:
            for pause in chunk[INTERRUPT]:
                yield "approval", as_approval(pause, session_id)
        else:
            yield mode, chunk
