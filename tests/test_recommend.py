"""The recommender over a real SQLite memory: constraints, feedback, isolation, tools, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from confidante._sync import run_sync
from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory.storage.records import Event
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings
from confidante.tools.recommend import (
    CatalogItem,
    CoreParams,
    Recommender,
    read_catalog_file,
    recommend_tools,
)
from confidante.tools.recommend.constraints import read_constraints
from confidante.tools.recommend.interactions import aload
from confidante.tools.recommend.reasons import fact_reason

MOVIES = [
    ("alien", "Alien (1979)", ["Horror", "Sci-Fi"]),
    ("aliens", "Aliens (1986)", ["Action", "Sci-Fi"]),
    ("blade", "Blade Runner (1982)", ["Sci-Fi", "Thriller"]),
    ("dune", "Dune (2021)", ["Adventure", "Sci-Fi"]),
    ("arrival", "Arrival (2016)", ["Drama", "Sci-Fi"]),
    ("shining", "The Shining (1980)", ["Horror"]),
    ("toy", "Toy Story (1995)", ["Animation", "Comedy"]),
    ("up", "Up (2009)", ["Animation", "Adventure"]),
    ("paddington", "Paddington (2014)", ["Comedy", "Family"]),
    ("heat", "Heat (1995)", ["Action", "Crime"]),
]
VIEWERS = {
    "v1": ["alien", "aliens", "blade", "dune"],
    "v2": ["aliens", "blade", "arrival", "dune"],
    "v3": ["toy", "up", "paddington"],
    "v4": ["heat", "aliens", "blade"],
}


@pytest.fixture
def memory(settings: Settings) -> Iterator[Memory]:
    store = Memory.open(settings=settings)
    yield store
    store.close()


@pytest.fixture
def recommender(memory: Memory) -> Recommender:
    rec = Recommender(memory)
    run_sync(
        rec.catalog.aadd(CatalogItem(id=i, title=t, attributes={"genres": g}) for i, t, g in MOVIES)
    )
    for viewer, watched in VIEWERS.items():
        for item in watched:
            rec.interact(viewer, item)
    return rec


def ids(found: list) -> list[str]:  # type: ignore[type-arg]
    return [r.item.id for r in found]


def test_read_constraints() -> None:
    found = read_constraints(
        [
            "The user dislikes horror movies.",
            "I don't like musicals; the user hates westerns.",
            "Ana already owns Dune.",
            "The user likes science fiction.",
            "The user lives in Lisbon.",
        ]
    )
    assert found.disliked_terms == {"horror", "musical", "western"}
    assert found.likes == ["The user likes science fiction."]
    items = [CatalogItem(id=i, title=t, attributes={"genres": g}) for i, t, g in MOVIES]
    excluded = {items[i].id for i in found.excluded(items)}
    assert excluded == {"alien", "shining", "dune"}


def test_collaborative_and_constraints(recommender: Recommender, memory: Memory) -> None:
    recommender.interact("ana", "aliens", "rated", rating=4.5)
    found = recommender.recommend("ana", k=5)
    assert found[0].item.id == "blade" and found[0].reason == "Because you liked Aliens (1986)."
    assert "alien" in ids(found) and "aliens" not in ids(found)
    memory.remember("ana", "Ana dislikes horror movies.")
    memory.remember("ana", "Ana already owns Blade Runner.")
    after = ids(recommender.recommend("ana", k=8))
    assert not {"alien", "shining", "blade", "aliens"} & set(after)


def test_interest_quota_option(recommender: Recommender, memory: Memory) -> None:
    for item in ["toy", "up", "aliens", "blade", "paddington", "heat", "arrival", "dune"]:
        recommender.interact("eve", item)
    plain = Recommender(memory, params=CoreParams(factors=4)).recommend("eve", k=2)
    quota = Recommender(memory, params=CoreParams(factors=4, quota=True)).recommend("eve", k=2)
    assert len(quota) == len({r.item.id for r in quota}) == 2
    assert {r.item.id for r in quota} <= {"alien", "shining"} and len(plain) == 2


def test_feedback_changes_the_next_list(recommender: Recommender) -> None:
    recommender.interact("ana", "aliens")
    first = ids(recommender.recommend("ana", k=3))
    recommender.feedback("ana", first[0], accepted=False)
    second = ids(recommender.recommend("ana", k=3))
    assert first[0] not in second and second != first
    recommender.feedback("ana", second[0], accepted=True)
    third = ids(recommender.recommend("ana", k=3))
    assert second[0] not in third  # accepted: now in the history
    kinds = [i.action for i in run_sync(aload(recommender.memory, "ana"))]
    assert kinds == ["viewed", "rejected", "accepted"]
    with pytest.raises(NotFoundError):
        recommender.feedback("ana", "no-such-item", accepted=True)
    with pytest.raises(InvalidInputError):
        recommender.interact("ana", "heat", "devoured")
    with pytest.raises(InvalidInputError):
        recommender.recommend("ana", k=0)


def test_cold_start_content_then_popularity(recommender: Recommender, memory: Memory) -> None:
    popular = recommender.recommend("newcomer", k=3)
    assert ids(popular) == ["aliens", "blade", "dune"]  # most viewed, ties by catalog order
    assert all(r.source == "popular" for r in popular)
    memory.remember("kid", "The user loves animated cartoons for children.")
    found = recommender.recommend("kid", k=3)
    assert found[0].source == "content" and found[0].item.id in {"toy", "up", "paddington"}
    query = recommender.recommend("newcomer", k=1, query="a funny animated film for the family")
    assert query[0].item.id in {"toy", "up", "paddington"}


def test_persona_fallback(recommender: Recommender, memory: Memory) -> None:
    memory.join_persona("v3", "parents")
    memory.join_persona("dad", "parents")
    found = recommender.recommend("dad", k=3)
    assert set(ids(found)) == {"toy", "up", "paddington"}
    assert found[0].reason == "Popular with people like you."


def test_isolation_and_forget_user(recommender: Recommender, memory: Memory) -> None:
    """B sees A only through the aggregate model; forgetting A removes A's interactions."""
    memory.remember("alice", "Alice likes films about her secret project Zephyr.")
    recommender.interact("alice", "paddington")
    recommender.interact("bob", "toy")
    model = ScriptedChatModel()
    reranking = Recommender(memory, model=model, rerank=True)
    found = reranking.recommend("bob", k=4)
    prompts = json.dumps(model.calls)
    assert "Zephyr" not in prompts and "Paddington (2014)." not in prompts.split("Candidates")[0]
    assert all("Paddington" not in r.reason for r in found)
    assert run_sync(aload(memory, "bob"))[0].item == "toy"
    counts = memory.forget_user("alice")
    assert counts["events"] == 1
    with memory.database.session() as session:
        assert not session.exec(select(Event).where(Event.user_id == "alice")).all()
    assert run_sync(aload(memory, "alice")) == []
    fitted = run_sync(reranking.afit())
    assert fitted.version[0] == sum(len(v) for v in VIEWERS.values()) + 1  # bob's only


def test_rerank_orders_by_numbers_and_keeps_true_reasons(
    recommender: Recommender, memory: Memory
) -> None:
    memory.remember("ana", "Ana likes slow science fiction dramas.")
    plain = Recommender(memory).recommend("ana", k=3)
    model = ScriptedChatModel()
    reranking = Recommender(memory, model=model, rerank=True)
    found = reranking.recommend("ana", k=3)
    assert found[0].item.id == "arrival"  # Drama + Sci-Fi shares most words
    assert all(r.reranked for r in found) and sorted(ids(found)) == sorted(ids(plain))
    assert {r.item.id: r.reason for r in found} == {r.item.id: r.reason for r in plain}
    assert model.calls[0]["response_format"]["json_schema"]["name"] == "RerankOrder"
    prompt = json.dumps(model.calls[0]["messages"])
    assert "1. " in prompt and "Ana likes slow science fiction dramas." in prompt


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (['{"order": [3, 1]}'], [2, 0, 1]),  # left-out candidates follow in order
        (['{"order": [9, 2]}', '{"order": [2, 2]}'], [1, 0, 2]),  # 9 is no candidate: retried
        (['{"order": []}', '{"order": [2]}'], [1, 0, 2]),  # empty: retried
        (['{"items": []}', "not json"], None),  # never usable: the core's order, flagged
        (['{"order": [0, 7]}', '{"order": [-1]}'], None),
    ],
)
def test_rerank_answers_are_parsed_or_fall_back(
    recommender: Recommender, memory: Memory, answers: list[str], expected: list[int] | None
) -> None:
    memory.remember("ana", "Ana likes slow science fiction dramas.")
    plain = Recommender(memory).recommend("ana", k=3)
    model = ScriptedChatModel(responses=answers)
    found = Recommender(memory, model=model, rerank=True).recommend("ana", k=3)
    if expected is None:
        assert ids(found) == ids(plain) and not any(r.reranked for r in found)
    else:
        assert ids(found) == [plain[i].item.id for i in expected]
        assert all(r.reranked for r in found)


def test_reasons_are_true_or_absent(recommender: Recommender, memory: Memory) -> None:
    """Issue 25: no unrelated fact, no request retold as "what you told me"."""
    run_sync(
        recommender.catalog.aadd(
            [
                CatalogItem(
                    id="chien",
                    title="Un chien andalou (1929)",
                    attributes={"genres": ["Drama", "Fantasy"]},
                )
            ]
        )
    )
    biscuit = "The user lives in Lisbon and has a dog called Biscuit."
    assert fact_reason(run_sync(recommender.catalog.aitems(["chien"]))[0], [biscuit]) == ""
    memory.remember("lee", "The user loves Lisbon and their dog Biscuit.")
    for rec in recommender.recommend("lee", k=6, query="something to watch tonight"):
        assert "Lisbon" not in rec.reason and "tonight" not in rec.reason, rec
        assert "told me: something" not in rec.reason
    memory.remember("kid", "The user loves animated cartoons for children.")
    found = recommender.recommend("kid", k=3)
    assert found[0].source == "content" and found[0].item.id in {"toy", "up"}
    assert (
        found[0].reason
        == "Matches what you told me: The user loves animated cartoons for children."
    )
    asked = recommender.recommend("newcomer", k=3, query="a funny comedy for the family")
    paddington = next(r for r in asked if r.item.id == "paddington")
    assert paddington.reason == "Fits your request (comedy, family)."
    assert all("told me" not in r.reason for r in asked)


async def test_graph_tools(recommender: Recommender) -> None:
    recommend, feedback = recommend_tools(recommender)
    assert feedback.metadata == {"side_effect": True}
    config = {"configurable": {"user_id": "ana"}}
    await feedback.ainvoke({"item_id": "aliens", "accepted": True}, config=config)
    text = await recommend.ainvoke({"k": 2}, config=config)
    assert "Blade Runner (1982) [blade]" in text
    with pytest.raises(InvalidInputError):
        await recommend.ainvoke({"k": 2}, config={"configurable": {}})


def test_catalog_files(tmp_path: Path) -> None:
    csv_file = tmp_path / "movies.csv"
    csv_file.write_text(
        'movieId,title,genres\n1,Toy Story (1995),Animation|Comedy\n2,"X, The",(no genres listed)\n'
    )
    items = read_catalog_file(csv_file)
    assert items[0].attributes == {"genres": ["Animation", "Comedy"]} and items[1].attributes == {}
    json_file = tmp_path / "c.json"
    json_file.write_text(
        json.dumps([{"id": "b1", "title": "Dune", "attributes": {"author": "Herbert"}}])
    )
    assert read_catalog_file(json_file)[0].terms() == {"dune", "herbert"}
    json_file.write_text(json.dumps([{"id": "", "title": "x"}]))
    with pytest.raises(InvalidInputError):
        read_catalog_file(json_file)
    with pytest.raises(InvalidInputError):
        read_catalog_file(tmp_path / "absent.csv")


@pytest.mark.slow  # five CLI processes, each loading the embedder
def test_cli(cli_env: dict[str, str], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        json.dumps([{"id": i, "title": t, "attributes": {"genres": g}} for i, t, g in MOVIES])
    )
    log = tmp_path / "seqs.txt"
    log.write_text("".join(f"{u} {' '.join(items)}\n" for u, items in VIEWERS.items()))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "confidante.cli", "recommend", *args],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert (
        cli("load-catalog", str(catalog)).stdout.strip()
        == "10 catalog items: 10 added, 0 unchanged"
    )
    assert "14 interactions" in cli("load-log", str(log), "--format", "sequences").stdout
    assert cli("feedback", "--user", "v4", "dune", "--reject").returncode == 0
    shown = cli("--user", "v4", "--k", "2", "--json")
    found = json.loads(shown.stdout)
    assert len(found) == 2 and not {"dune", "heat", "aliens", "blade"} & {
        r["item"]["id"] for r in found
    }
    assert {"item", "score", "source", "reason"} <= set(found[0])
    missing = cli("feedback", "--user", "v4", "nothing")
    assert missing.returncode == 2 and "no catalog item" in missing.stderr
    assert cli("--k", "2").returncode == 2
