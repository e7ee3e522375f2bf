"""The write path: what multi-session conversations leave in memory, and the answers it gives.

Reads the write-path dev set (JSON conversations with gold routes, facts, updates and
questions; ``benchmarks/data/write_path/``, format in its ``FORMAT.md``). Every session of a
conversation runs on a fresh ``Agent`` (a new process would see only what the memory kept),
on the configured chat model: the embedded local model unless ``--model`` says otherwise.
Side-effecting tool calls are approved, as the user asked for them.

Three systems answer the same questions in the same run, on the same model (the two
comparison rows generate no reply to the turns that ask nothing: those are kept in the
session's history, and stored by ``raw_turns``):

- ``full``: the agent as shipped (routing, extraction with subjects and slots, updates,
  safety check);
- ``no_memory``: the session's own messages only (nothing is remembered or recalled);
- ``raw_turns``: every user message is stored as a raw turn and retrieved, no extraction.

Reported (EVAL.md §7): route accuracy; fact recall and precision (a stored current fact
matches a gold fact when its subject and value match); wrong-subject rate (stored facts
that carry a gold value under the wrong subject, over stored facts); update accuracy (the
new value current, the old one not, the old one in the history); answer accuracy, overall
and per question type; cross-user leaks (recalled memories another user owns); seconds,
model calls and tokens per turn, and the model calls and tokens of its memory writes
(extraction, summaries; from ``TurnResult.usage``).

    python benchmarks/write_path.py --json OUT            # all systems, local model
    python benchmarks/write_path.py --limit 4 --systems full
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from _report import print_table
from _write_path_scoring import Stored, answer_ok, explain, score_facts
from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from rich.progress import Progress
from sqlmodel import col, select

from confidante import Agent
from confidante.graphs.builder import GraphBuilder
from confidante.graphs.state import fresh_turn
from confidante.memory.scopes import scope_of
from confidante.memory.storage.records import Concept
from confidante.memory.store import Memory
from confidante.models import build_chat_model
from confidante.settings import Settings
from confidante.tools.defaults import default_tools

DATA = Path(__file__).parent / "data" / "write_path"
SYSTEMS = ("full", "no_memory", "raw_turns")


#: The kinds of model call that write memory (see ``confidante.usage``).
WRITE_KINDS = ("extraction", "summary")


class ModelCalls(AsyncCallbackHandler):
    """Counts the chat model's calls and the seconds spent in them."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0
        self._started: dict[Any, float] = {}

    async def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.calls += 1
        self._started[kwargs.get("run_id")] = time.perf_counter()

    async def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        started = self._started.pop(kwargs.get("run_id"), None)
        if started is not None:
            self.seconds += time.perf_counter() - started


def load(paths: list[Path]) -> list[dict[str, Any]]:
    """The conversations of the given files (or of every ``*.json`` file in a folder)."""
    files = [f for p in paths for f in (sorted(p.glob("*.json")) if p.is_dir() else [p])]
    return [conversation for path in files for conversation in json.loads(path.read_text())]


def image_stand_in() -> Any:
    """A ``generate_image`` tool for routing only: this benchmark generates no pictures."""

    async def generate_image(prompt: str) -> str:
        """Generate a personalized picture from a description."""
        return "picture generation is not set up in this benchmark run"

    return generate_image


def builder_for(system: str, memory: Memory) -> GraphBuilder:
    """The graph of a system: as shipped, without memory, or with raw turns only."""
    builder = GraphBuilder().add_tool(image_stand_in())
    if system == "no_memory":

        async def no_recall(state: dict[str, Any]) -> dict[str, Any]:
            event = await memory.arecord_event(state["user_id"], "user", _text(state))
            return {
                "event_id": event,
                "queries": [],
                "recalled": [],
                "summary": "",
                "summary_task": "chat",
                "safety": [],
                **fresh_turn(),
            }

        async def no_learning(state: dict[str, Any]) -> dict[str, Any]:
            return {"remembered": []}

        builder.replace_node("recall", no_recall).replace_node("remember", no_learning)
    elif system == "raw_turns":

        async def store_turn(state: dict[str, Any]) -> dict[str, Any]:
            await memory.aobserve(state["user_id"], _text(state), speaker="user")
            return {"remembered": []}

        builder.replace_node("remember", store_turn)
    return builder


async def _said_only(agent: Agent, system: str, memory: Memory, text: str) -> None:
    """A comparison system's turn that asks nothing: kept in the session, no reply generated.

    The comparison rows answer only the questions; the session's other messages still reach
    their prompts (as history, with a short acknowledgement), and ``raw_turns`` stores them.
    """
    graph = await agent._ensure_graph()  # the Agent has no public way to add history
    update = {"messages": [HumanMessage(text), AIMessage("Noted.")], "user_id": agent.user_id}
    await graph.aupdate_state(agent._config(None), update)
    if system == "raw_turns":
        await memory.aobserve(agent.user_id, text, speaker="user")


def _text(state: dict[str, Any]) -> str:
    return str(state["messages"][-1].content)


async def foreign(memory: Memory, user: str, item_ids: list[str]) -> int:
    """How many of ``item_ids`` belong to another user (a forgotten item belongs to none)."""

    def owners(session: Any) -> list[str]:
        rows = session.exec(select(Concept).where(col(Concept.id).in_(item_ids))).all()
        return [row.user_id for row in rows]

    found = await memory.database.run(owners, write=False) if item_ids else []
    return sum(1 for owner in found if owner != user and scope_of(owner) == "user")


async def stored_facts(memory: Memory, user: str) -> list[Stored]:
    """The user's extracted facts, current and superseded, with their subjects."""
    subjects = {s.id: s.model_dump() for s in await memory.asubjects(user)}
    items = await memory.alist_items(user, kinds=["fact"], include_history=True)
    return [
        Stored(item.text, subjects.get(item.subject_id or ""), item.valid_to is None)
        for item in items
    ]


async def run_conversation(
    conversation: dict[str, Any],
    system: str,
    memory: Memory,
    model: BaseChatModel,
    settings: Settings,
    calls: ModelCalls,
) -> dict[str, Any]:
    """Play one conversation on one system; returns its per-turn and per-question records."""
    user = f"{system}-{conversation['id']}"
    tools = default_tools(memory, settings, model)
    turns, questions, leaks = [], [], 0
    for number, session in enumerate(conversation["sessions"], 1):
        agent = Agent(
            user,
            settings=settings,
            model=model,
            memory=memory,
            tools=tools,
            session_id=f"s{number}",
            graph=builder_for(system, memory),
        )
        for turn in session:
            if system != "full" and "expect" not in turn:
                await _said_only(agent, system, memory, turn["say"])
                continue
            before_calls, before_s, started = calls.calls, calls.seconds, time.perf_counter()
            result = await agent.aturn(turn["say"])
            usage = result.usage
            while result.approvals:
                result = await agent.aresume("approve")
                usage = usage.merged(result.usage)
            writes = [usage.by_kind[k] for k in WRITE_KINDS if k in usage.by_kind]
            turns.append(
                {
                    "say": turn["say"],
                    "route": result.route,
                    "gold_route": turn["route"],
                    "seconds": time.perf_counter() - started,
                    "model_calls": calls.calls - before_calls,
                    "model_seconds": calls.seconds - before_s,
                    "tokens": usage.total_tokens,
                    "write_model_calls": sum(part.calls for part in writes),
                    "write_tokens": sum(part.total_tokens for part in writes),
                }
            )
            leaks += await foreign(memory, user, [item["id"] for item in result.recalled])
            if "expect" in turn:
                questions.append(
                    {
                        "conversation": conversation["id"],
                        "question": turn["say"],
                        "type": turn["expect"].get("type", "recall"),
                        "answer": result.reply,
                        "ok": answer_ok(result.reply, turn["expect"]),
                    }
                )
        await agent.aclose()  # the memory is shared: only the session's checkpoints close
    facts, detail = None, None
    if system == "full":
        everything = [turn for session in conversation["sessions"] for turn in session]
        stored = await stored_facts(memory, user)
        facts = score_facts(everything, stored)
        detail = explain(everything, stored)
    return {
        "turns": turns,
        "questions": questions,
        "leaks": leaks,
        "facts": facts,
        "detail": detail,
        "conversation": conversation["id"],
    }


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def summarise(system: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate the records of one system."""
    turns = [t for r in records for t in r["turns"]]
    questions = [q for r in records for q in r["questions"]]
    by_type: dict[str, list[bool]] = defaultdict(list)
    for question in questions:
        by_type[question["type"]].append(question["ok"])
    seconds = sorted(t["seconds"] for t in turns)
    model_seconds = sorted(t["model_seconds"] for t in turns if t["gold_route"] == "chat")
    out: dict[str, Any] = {
        "turns": len(turns),
        "questions": len(questions),
        "route_accuracy": (  # the comparison rows run only the questions
            _ratio(sum(t["route"] == t["gold_route"] for t in turns), len(turns))
            if system == "full"
            else None
        ),
        "answer_accuracy": _ratio(sum(q["ok"] for q in questions), len(questions)),
        "answer_accuracy_by_type": {k: _ratio(sum(v), len(v)) for k, v in sorted(by_type.items())},
        "cross_user_leaks": sum(r["leaks"] for r in records),
        "seconds_per_turn": _ratio(sum(seconds), len(seconds)),
        "seconds_per_turn_p50": round(seconds[len(seconds) // 2], 3) if seconds else 0.0,
        "model_calls_per_turn": _ratio(sum(t["model_calls"] for t in turns), len(turns)),
        "tokens_per_turn": _ratio(sum(t["tokens"] for t in turns), len(turns)),
        # what writing to memory cost (extraction, summaries: TurnResult.usage by kind)
        "write_model_calls_per_turn": _ratio(
            sum(t["write_model_calls"] for t in turns), len(turns)
        ),
        "write_tokens_per_turn": _ratio(sum(t["write_tokens"] for t in turns), len(turns)),
        "model_seconds_per_chat_turn_p50": (
            round(model_seconds[len(model_seconds) // 2], 3) if model_seconds else 0.0
        ),
    }
    if system == "full":
        out["misrouted"] = [
            {"say": t["say"], "route": t["route"], "gold": t["gold_route"]}
            for t in turns
            if t["route"] != t["gold_route"]
        ]
        facts = [r["facts"] for r in records if r["facts"]]
        total = {key: sum(f[key] for f in facts) for key in facts[0]} if facts else {}
        out.update(
            {
                "fact_recall": _ratio(total.get("recalled", 0), total.get("gold_current", 0)),
                "fact_precision": _ratio(total.get("precise", 0), total.get("stored", 0)),
                "wrong_subject_rate": _ratio(total.get("wrong_subject", 0), total.get("stored", 0)),
                "update_accuracy": _ratio(total.get("updated", 0), total.get("updates", 0)),
                "facts": total,
            }
        )
    return out


async def run(
    conversations: list[dict[str, Any]], systems: list[str], settings: Settings
) -> dict[str, Any]:
    """Play every conversation on every system; returns the figures and the records."""
    calls = ModelCalls()
    model = build_chat_model(settings)
    model.callbacks = [calls]
    memory = Memory.open(settings.resolved_database_url, settings=settings)
    records: dict[str, list[dict[str, Any]]] = {system: [] for system in systems}
    total = len(conversations) * len(systems)
    with Progress() as progress:
        task = progress.add_task("conversations", total=total)
        for conversation in conversations:
            for system in systems:
                record = await run_conversation(
                    conversation, system, memory, model, settings, calls
                )
                records[system].append(record)
                for question in record["questions"]:  # each answer as soon as it is known
                    mark = "ok  " if question["ok"] else "FAIL"
                    progress.console.print(
                        f"{conversation['id']} {system} {mark} {question['question']} -> "
                        f"{question['answer']}",
                        markup=False,
                        highlight=False,
                    )
                progress.advance(task)
    memory.close()
    return {
        "model": settings.model,
        "conversations": len(conversations),
        "systems": {system: summarise(system, records[system]) for system in systems},
        "questions": {
            system: [q for r in records[system] for q in r["questions"]] for system in systems
        },
        "facts": {r["conversation"]: r["detail"] for r in records.get("full", [])},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, nargs="+", default=[DATA], help="dev set files or folder"
    )
    parser.add_argument("--limit", type=int, help="only the first N conversations")
    parser.add_argument("--every", type=int, default=1, help="only every N-th conversation")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated systems")
    parser.add_argument("--model", help="chat model (default: the settings', i.e. local)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    conversations = load(args.data)[:: max(args.every, 1)][: args.limit]
    systems = [s for s in args.systems.split(",") if s]
    if unknown := set(systems) - set(SYSTEMS):
        parser.error(f"unknown systems: {sorted(unknown)} (choose from {', '.join(SYSTEMS)})")
    with tempfile.TemporaryDirectory() as folder:
        overrides: dict[str, Any] = {"data_dir": Path(folder)}
        if args.model:
            overrides["model"] = args.model
        settings = Settings(**overrides)
        result = asyncio.run(run(conversations, systems, settings))
    metrics = [
        "route_accuracy",
        "fact_recall",
        "fact_precision",
        "wrong_subject_rate",
        "update_accuracy",
        "answer_accuracy",
        "cross_user_leaks",
        "seconds_per_turn",
        "model_calls_per_turn",
        "model_seconds_per_chat_turn_p50",
    ]
    figures_of = result["systems"]
    print_table(
        ["metric", *figures_of],
        [
            [
                metric,
                *[
                    "-" if figures_of[s].get(metric) is None else figures_of[s][metric]
                    for s in figures_of
                ],
            ]
            for metric in metrics
        ],
        title=f"write path: {result['conversations']} conversations, model {result['model']}",
    )
    for system, figures in result["systems"].items():
        print(system, "answers by type:", figures["answer_accuracy_by_type"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
