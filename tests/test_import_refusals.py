"""Bad imports are refused whole, with a message that says what was wrong (SQLite, PostgreSQL).

Unknown formats, truncated files, malformed records and another user's export: nothing of
them is written. ``--source-user`` maps an export of another user on purpose.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import fresh_postgres_database

from confidante.errors import InvalidInputError
from confidante.integrations.importers import convert_export
from confidante.integrations.langgraph_store import ConfidanteStore
from confidante.memory.store import Memory
from confidante.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "imports"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(params=["sqlite", "postgres"])
def memory(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Memory]:
    """A memory on an empty SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        store = Memory.open(settings=settings)
        yield store
        store.close()
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    with fresh_postgres_database(admin_url) as url:
        store = Memory.open(url, settings=settings)
        yield store
        store.close()


def letta_of(identity: str) -> Any:
    data = fixture("letta_agent.af")
    data["agents"][0]["identity_ids"] = [identity]
    return data


def graphiti_of(group: str) -> Any:
    data = fixture("graphiti_export.json")
    for record in (*data["episodes"], *data["edges"], *data["nodes"]):
        record["group_id"] = group
    return data


def langgraph_of(user: str) -> Any:
    data = fixture("langgraph_store.json")
    for record in data:
        if "namespace" in record:
            record["namespace"][0] = user
        else:
            record["prefix"] = user + record["prefix"][3:]
    return data


def mem0_of(user: str) -> Any:
    """mem0's open-source ``get_all`` result for ``user`` (two memories)."""
    return {
        "results": [
            {
                "id": "f38b689d-6b24-45b7-bced-17fbb4d8bac7",
                "memory": "Is travelling to Paris in June",
                "created_at": "2024-02-25T23:57:00.108347-07:00",
                "updated_at": "2024-07-25T23:57:00.108367-07:00",
                "user_id": user,
            },
            {
                "id": "0b7b1e3c-7f8c-4c2e-9d1a-6a0f5b1c2d3e",
                "memory": "Is vegetarian",
                "created_at": "2024-03-01T10:00:00Z",
                "user_id": user,
            },
        ],
        "relations": [],
    }


OTHER_USERS = {
    "mem0": (mem0_of("bob"), "bob"),
    "letta": (letta_of("identity-bob"), "identity-bob"),
    "graphiti": (graphiti_of("bob"), "bob"),
    "langgraph": (langgraph_of("bob"), "bob"),
}


def nothing_written(memory: Memory, user: str = "ana") -> bool:
    export = memory.export(user)
    return not export["items"] and not export["events"]


@pytest.mark.parametrize("file_format", sorted(OTHER_USERS))
def test_another_users_export_is_refused_unless_mapped(file_format: str, memory: Memory) -> None:
    data, source = OTHER_USERS[file_format]
    with pytest.raises(InvalidInputError, match=f"another user.*{source}.*--source-user"):
        convert_export(file_format, data, user_id="ana")
    assert nothing_written(memory)
    # mapping it on purpose
    memory.import_("ana", convert_export(file_format, data, user_id="ana", source_user=source))
    assert memory.list_items("ana")
    assert memory.list_items(source) == []


def test_a_mapped_langgraph_dump_lands_under_the_target_users_namespaces(memory: Memory) -> None:
    data, source = OTHER_USERS["langgraph"]
    memory.import_("ana", convert_export("langgraph", data, user_id="ana", source_user=source))
    item = ConfidanteStore(memory).get(("ana", "memories"), "diet")
    assert item is not None and item.value["text"] == "Ana is vegetarian."
    assert ConfidanteStore(memory).get(("bob", "memories"), "diet") is None


def test_an_export_of_several_users_needs_a_choice(memory: Memory) -> None:
    mixed = graphiti_of("ana")
    bob = graphiti_of("bob")
    for field in ("episodes", "edges"):
        extra = copy.deepcopy(bob[field][-1])
        extra["uuid"] = extra["uuid"][:-1] + "9"
        mixed[field].append(extra)
    with pytest.raises(InvalidInputError, match=r"several users.*'ana', 'bob'"):
        convert_export("graphiti", mixed, user_id="ana")
    memory.import_("ana", convert_export("graphiti", mixed, user_id="ana", source_user="ana"))
    texts = {i.text for i in memory.list_items("ana", include_history=True)}
    assert len(texts) == 4  # Bob's extra fact stayed out
    with pytest.raises(InvalidInputError, match="names no user 'carol'"):
        convert_export("graphiti", mixed, user_id="ana", source_user="carol")


def test_a_mem0_export_of_several_users_needs_a_choice(memory: Memory) -> None:
    mixed = mem0_of("ana")
    mixed["results"].append({"id": "b-1", "memory": "Has a cat named Tom", "user_id": "bob"})
    with pytest.raises(InvalidInputError, match=r"several users.*'ana', 'bob'.*--source-user"):
        convert_export("mem0", mixed, user_id="ana")
    with pytest.raises(InvalidInputError, match="names no user 'carol'"):
        convert_export("mem0", mixed, user_id="ana", source_user="carol")
    assert nothing_written(memory)
    memory.import_("ana", convert_export("mem0", mixed, user_id="ana", source_user="ana"))
    assert sorted(i.text for i in memory.list_items("ana")) == [
        "Is travelling to Paris in June",
        "Is vegetarian",
    ]
    memory.import_("ben", convert_export("mem0", mixed, user_id="ben", source_user="bob"))
    assert [i.text for i in memory.list_items("ben")] == ["Has a cat named Tom"]


def _broken_letta() -> Any:
    data = fixture("letta_agent.af")
    del data["agents"][0]["messages"][-1]["created_at"]
    return data


def _broken_graphiti() -> Any:
    data = fixture("graphiti_export.json")
    data["edges"][-1]["fact"] = ""
    return data


def _backwards_graphiti() -> Any:
    data = fixture("graphiti_export.json")
    data["edges"][0]["invalid_at"] = "2020-01-01T00:00:00Z"
    return data


def _broken_langgraph() -> Any:
    data = fixture("langgraph_store.json")
    data.append(copy.deepcopy(data[0]))
    return data


@pytest.mark.parametrize(
    ("file_format", "make", "message"),
    [
        ("letta", _broken_letta, r"agents\[0\]\.messages\[8\] has no time"),
        ("letta", lambda: {"name": "not an agent file"}, "not a Letta agent file"),
        ("graphiti", _broken_graphiti, r"edges\[3\] has no 'fact' text"),
        ("graphiti", _backwards_graphiti, r"edges\[0\]\.invalid_at is before its valid_at"),
        ("graphiti", lambda: [1, 2], "not a Zep/Graphiti export"),
        ("langgraph", _broken_langgraph, r"items\[4\]: the key 'diet' appears twice"),
        ("langgraph", lambda: {"rows": []}, "not a LangGraph store dump"),
        ("langgraph", lambda: [{"namespace": [], "key": "k", "value": {}}], "non-empty"),
        ("nope", lambda: [], "unknown format 'nope': use one of confidante, mem0, letta"),
    ],
)
def test_malformed_exports_are_refused_before_anything_is_written(
    file_format: str, make: Any, message: str, memory: Memory
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        memory.import_("ana", convert_export(file_format, make(), user_id="ana"))
    assert nothing_written(memory)


def test_a_document_refused_inside_the_transaction_leaves_nothing(memory: Memory) -> None:
    """The last check runs in the writing transaction (ids taken): the whole import rolls back."""
    memory.import_(
        "ana", convert_export("graphiti", fixture("graphiti_export.json"), user_id="ana")
    )
    taken = memory.list_items("ana")[0].id
    document = convert_export("letta", fixture("letta_agent.af"), user_id="ben")
    for index, entry in enumerate(document["items"]):
        entry["id"] = f"{index:032x}"
    document["items"][-1]["id"] = taken
    with pytest.raises(InvalidInputError, match="already in the database"):
        memory.import_("ben", document, keep_ids=True)
    assert nothing_written(memory, "ben")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "confidante.cli", "memory", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_imports_each_format_and_refuses_bad_files(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    for file_format, name in [
        ("letta", "letta_agent.af"),
        ("graphiti", "graphiti_export.json"),
        ("langgraph", "langgraph_store.json"),
    ]:
        done = _cli(
            cli_env,
            "import",
            "--user",
            "ana",
            "--format",
            file_format,
            str(FIXTURES / name),
            "--json",
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["items"] > 0
    truncated = tmp_path / "cut.af"
    text = (FIXTURES / "letta_agent.af").read_text(encoding="utf-8")
    truncated.write_text(text[: len(text) // 2], encoding="utf-8")
    cut = _cli(cli_env, "import", "--user", "ben", "--format", "letta", str(truncated))
    assert cut.returncode == 1 and "truncated" in cut.stderr
    bob = tmp_path / "bob.json"
    bob.write_text(json.dumps(graphiti_of("bob")), encoding="utf-8")
    refused = _cli(cli_env, "import", "--user", "ben", "--format", "graphiti", str(bob))
    assert refused.returncode == 1 and "--source-user bob" in refused.stderr
    unknown = _cli(cli_env, "import", "--user", "ben", "--format", "letta2", str(bob))
    assert unknown.returncode == 1 and "unknown format 'letta2'" in unknown.stderr
    mapped = _cli(
        cli_env,
        "import",
        "--user",
        "ben",
        "--format",
        "zep",
        "--source-user",
        "bob",
        str(bob),
        "--json",
    )
    assert mapped.returncode == 0, mapped.stderr
    assert json.loads(mapped.stdout)["events"] == 3
    listed = _cli(cli_env, "list", "--user", "ben", "--json")
    assert {item["text"] for item in json.loads(listed.stdout)} == {
        "Ana lives in Porto.",
        "Biscuit is Ana's beagle.",
        "Ana works at the city library until the end of 2099.",
    }
