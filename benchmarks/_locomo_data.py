"""LoCoMo helpers shared by the benchmarks: loading, evidence normalisation, recall, BM25.

The data (``../shared/data/locomo/locomo_dev.json``) is read in place, never copied. Category
numbers follow the official evaluation code: 1 multi-hop, 2 temporal, 3 open-domain,
4 single-hop (5, adversarial, is left out).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/data/locomo/locomo_dev.json"
BUDGET = 1_000  # tokens of the budgeted recall
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
Ranking = npt.NDArray[np.intp]


@dataclass
class Turn:
    """One dialog turn.

    Attributes:
        dia_id: The turn's id (``D<session>:<turn>``).
        text: ``"speaker: text [image: caption]"``, as indexed by the raw-turn retrievers.
        date: The session's date as written in the data (``"1:56 pm on 8 May, 2023"``).
        speaker: Who said it.
        said: What was said, without speaker or caption.
        caption: The BLIP caption of the shared image, if any.
        session: The session number.
    """

    dia_id: str
    text: str
    date: str
    speaker: str = ""
    said: str = ""
    caption: str | None = None
    session: int = 0

    def render(self, date_prefix: bool) -> str:
        """Return the text to index, optionally prefixed by the session date."""
        return f"[{self.date}] {self.text}" if date_prefix and self.date else self.text

    @property
    def occurred_at(self) -> datetime | None:
        """The session's date and time, parsed (None when the data has none)."""
        return parse_date(self.date)


@dataclass
class Question:
    """A category 1–4 question with its normalised evidence ids (all match a turn)."""

    text: str
    category: int
    evidence: list[str]


@dataclass
class Conversation:
    """A LoCoMo sample reduced to what the benchmarks need."""

    sample_id: str
    turns: list[Turn]
    questions: list[Question]
    skipped_ids: int = 0
    dropped_questions: int = 0


def parse_date(text: str) -> datetime | None:
    """Parse a LoCoMo session date such as ``"1:56 pm on 8 May, 2023"`` (None if malformed)."""
    try:
        return datetime.strptime(" ".join(text.replace(" on ", " ").split()), "%I:%M %p %d %B, %Y")
    except ValueError:
        return None


def tokens(text: str) -> int:
    """Approximate tokens of a text: ``len(text) // 4``."""
    return len(text) // 4


def full_history_tokens(conv: Conversation) -> int:
    """Tokens of the whole conversation: per session its date, then one line per turn."""
    lines: dict[int, list[str]] = {}
    for t in conv.turns:
        lines.setdefault(t.session, [f"[{t.date}]"]).append(t.text)
    return sum(tokens("\n".join(session)) for session in lines.values())


def normalise_evidence(raw: Sequence[str], valid: set[str]) -> tuple[list[str], int]:
    """Split evidence strings on ``;``/whitespace; keep known ids once; count skipped pieces."""
    kept: list[str] = []
    skipped = 0
    for piece in (p for item in raw for p in re.split(r"[;\s]+", str(item)) if p):
        if piece not in valid:
            skipped += 1
        elif piece not in kept:
            kept.append(piece)
    return kept, skipped


def parse_conversation(sample: dict[str, Any]) -> Conversation:
    """Build the turns (in session order) and category 1–4 questions of one LoCoMo sample."""
    conv = sample["conversation"]
    numbers = sorted(int(m[1]) for key in conv if (m := re.fullmatch(r"session_(\d+)", key)))
    turns: list[Turn] = []
    for n in numbers:
        date = str(conv.get(f"session_{n}_date_time", ""))
        for t in conv[f"session_{n}"]:
            text = f"{t['speaker']}: {t['text']}"
            caption = t.get("blip_caption") or None
            if caption:
                text += f" [image: {caption}]"
            turns.append(Turn(t["dia_id"], text, date, t["speaker"], t["text"], caption, n))
    result = Conversation(str(sample.get("sample_id", "")), turns, [])
    ids = {t.dia_id for t in turns}
    for qa in sample.get("qa", []):
        if qa.get("category") not in CATEGORIES:
            continue
        evidence, skipped = normalise_evidence(qa.get("evidence", []), ids)
        result.skipped_ids += skipped
        if evidence:
            result.questions.append(Question(str(qa["question"]), int(qa["category"]), evidence))
        else:
            result.dropped_questions += 1
    return result


def recall_at(ranked_ids: Sequence[str], evidence: Sequence[str], k: int) -> float:
    """Return the fraction of ``evidence`` found in the first ``k`` of ``ranked_ids``."""
    return len(set(ranked_ids[:k]) & set(evidence)) / len(set(evidence))


def stemmer() -> Callable[[str], str] | None:
    """Return PyStemmer's English stemmer for bm25s if installed, else ``None``."""
    try:
        import Stemmer  # type: ignore[import-not-found]
    except ImportError:
        return None
    return Stemmer.Stemmer("english").stemWord  # type: ignore[no-any-return]


class BM25Index:
    """BM25 over a list of texts with bm25s's tokenizer and English stopwords."""

    def __init__(self, texts: Sequence[str], stem: Callable[[str], str] | None = None) -> None:
        self._stem = stem
        self._n = len(texts)
        self._model = bm25s.BM25()
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=stem, show_progress=False)
        self._model.index(tokens, show_progress=False)

    def rank(self, query: str) -> Ranking:
        """Rank every text for ``query``, best first."""
        tokens = bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stem, return_ids=False, show_progress=False
        )[0]
        scores = self._model.get_scores(tokens) if tokens else np.zeros(self._n)
        return np.argsort(-np.asarray(scores), kind="stable")


def summarise_records(
    records: Sequence[dict[str, Any]], ks: Sequence[int]
) -> dict[str, dict[str, float]]:
    """Means per category label and overall, with latency percentiles and question counts.

    Each record has ``category``, ``recall@k`` for each k, ``tokens``, ``ratio`` (tokens over
    the full history's), ``ms`` and ``ms_excl`` (latency without the query embedding).
    """
    groups = {"overall": list(records)}
    groups.update(
        {label: [r for r in records if r["category"] == c] for c, label in CATEGORIES.items()}
    )
    out: dict[str, dict[str, float]] = {}
    for label, rows in groups.items():
        if not rows:
            continue
        entry = {f"recall@{k}": float(np.mean([r[f"recall@{k}"] for r in rows])) for k in ks}
        for key in sorted({key for r in rows for key in r if key.endswith("tok")}):
            entry[key] = float(np.mean([r[key] for r in rows if key in r]))
        entry["tokens_per_query"] = float(np.mean([r["tokens"] for r in rows]))
        entry["full_history_ratio"] = float(np.mean([r["ratio"] for r in rows]))
        for key, suffix in (("ms", ""), ("ms_excl", "_excl_embedding")):
            values = [r[key] for r in rows]
            entry[f"p50_ms{suffix}"] = float(np.percentile(values, 50))
            entry[f"p95_ms{suffix}"] = float(np.percentile(values, 95))
        entry["n"] = len(rows)
        out[label] = entry
    return out


def budget_recall(
    provenances: Sequence[Sequence[str]], sizes: Sequence[int], evidence: Any
) -> float:
    """Recall of the longest prefix of hits (their provenance and tokens) within :data:`BUDGET`."""
    covered: set[str] = set()
    spent = 0
    for sources, size in zip(provenances, sizes, strict=True):
        spent += size
        if spent > BUDGET:
            break
        covered.update(sources)
    return len(covered & set(evidence)) / len(set(evidence))


def busy_summary(spent: Sequence[tuple[float, float]]) -> dict[str, float]:
    """Latency percentiles of the busy-neighbour pass (empty without ``--busy``)."""
    if not spent:
        return {}
    with_embedding, without = [a for a, _ in spent], [b for _, b in spent]
    return {
        "p50_ms": float(np.percentile(with_embedding, 50)),
        "p95_ms": float(np.percentile(with_embedding, 95)),
        "p50_ms_excl_embedding": float(np.percentile(without, 50)),
        "p95_ms_excl_embedding": float(np.percentile(without, 95)),
        "processes": float(os.cpu_count() or 2),
    }
