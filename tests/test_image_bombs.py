"""Decompression bombs: a small PNG of huge dimensions is refused from its header, undecoded.

The pictures are real PNG files written here row by row (a 13000x13000 1-bit PNG is about
25 KB on disk and 169 MB once PIL decodes it), so no test allocates the pixels itself.
"""

from __future__ import annotations

import base64
import io
import struct
import subprocess
import sys
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from server_support import LiveServer, live_server, server_settings

from confidante.errors import InvalidInputError
from confidante.memory.embeddings.images import MAX_IMAGE_PIXELS, load_image
from confidante.memory.store import Memory


def bomb_png(width: int, height: int) -> bytes:
    """A black 1-bit greyscale PNG of ``width`` x ``height``, compressed as it is written."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then the row's bits
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = bomb_png(13000, 13000)
    assert len(data) < 1_000_000
    with Image.open(io.BytesIO(data)) as header_only:
        assert header_only.size == (13000, 13000)
    return data


def test_the_size_is_refused_from_the_header_before_any_pixel_is_decoded(
    bomb: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    program = """
import resource, sys
from confidante.errors import InvalidInputError
from confidante.memory.embeddings.images import load_image
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_image(data)
except InvalidInputError as exc:
    print(exc)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(grown // 1024)
"""
    done = subprocess.run(
        [sys.executable, "-c", program, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    message, grown_mb = done.stdout.strip().splitlines()
    assert "13000x13000" in message and f"{MAX_IMAGE_PIXELS:,}" in message
    assert int(grown_mb) < 50  # decoding it would take 169 MB (one byte per pixel)


def test_every_way_in_gives_the_same_clear_error(bomb: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    for image in (bomb, path, str(path)):
        with pytest.raises(InvalidInputError, match=r"13000x13000 .* over the limit"):
            load_image(image)


def test_pils_own_bomb_limits_are_invalid_input_too(bomb: bytes) -> None:
    with pytest.raises(InvalidInputError, match="too many pixels"):  # over twice PIL's limit
        load_image(bomb_png(14000, 14000))
    with warnings.catch_warnings():  # where warnings are errors, PIL's warning is raised
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(InvalidInputError, match="too many pixels"):
            load_image(bomb)


# ----------------------------------------------------------------------------- over HTTP
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Memory]]:
    root = tmp_path_factory.mktemp("bombs")
    settings = server_settings(root)
    memory = Memory.open(settings=settings)
    try:
        with live_server(root, settings=settings, memory=memory) as live:
            yield live, memory
    finally:
        memory.close()


def _export_with_picture(memory: Memory, png: bytes) -> dict[str, Any]:
    """A real export of one image item, its picture replaced by ``png``."""
    picture = Image.new("RGB", (8, 8), "orange")
    memory.remember_image("exporter", picture, caption="An orange square")
    document = memory.export("exporter")
    (item,) = [item for item in document["items"] if item["kind"] == "image"]
    item["image_png"] = base64.b64encode(png).decode("ascii")
    return document


@pytest.mark.parametrize(
    ("size", "expected"),
    [((13000, 13000), "13000x13000"), ((14000, 14000), "too many pixels")],
)
def test_an_imported_bomb_answers_400_with_the_reason(
    server: tuple[LiveServer, Memory], size: tuple[int, int], expected: str
) -> None:
    live, memory = server
    document = _export_with_picture(memory, bomb_png(*size))
    with live.client(live.key_for("importer")) as client:
        answer = client.post("/v1/memories/import", json=document)
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert error["code"] == "invalid_value"
        assert "image_png" in error["message"] and expected in error["message"]
        assert client.get("/v1/memories").json()["data"] == []
    assert httpx.get(f"{live.url}/healthz").status_code == 200
