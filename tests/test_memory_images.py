"""Image concepts: remembered with their caption and file, found by text or by image."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from confidante.errors import InvalidInputError, ModelNotAvailableError, NotFoundError
from confidante.memory.embeddings.images import ClipImageEmbedder, build_image_embedder
from confidante.memory.store import Memory
from confidante.models.tiny_clip import build_tiny_clip
from confidante.settings import Settings


def picture(seed: int, size: tuple[int, int] = (48, 40)) -> Image.Image:
    """A distinct random RGB image per seed."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


@pytest.fixture
def clip_memory(memory: Memory, tiny_clip: Path) -> Memory:
    memory.image_embedder = ClipImageEmbedder(str(tiny_clip))
    return memory


def test_image_concept_is_found_by_caption_and_keeps_its_file(memory: Memory) -> None:
    item_id = memory.remember_image("ana", picture(1), caption="Ana's red bicycle by the sea")
    memory.remember("ana", "Ana works as a nurse.")
    hit = memory.retrieve("ana", "bicycle", k=1)[0]
    assert hit.id == item_id and hit.kind == "image"
    assert hit.image_path is not None and Path(hit.image_path).is_file()
    with Image.open(hit.image_path) as stored:
        assert stored.format == "PNG" and stored.size == (48, 40)
    assert hit.attributes["image_sha256"]


def test_the_same_image_is_stored_once_whatever_its_form(memory: Memory, tmp_path: Path) -> None:
    image = picture(2)
    first = memory.remember_image("ana", image, caption="a sunset", provenance=["t1"])
    path = tmp_path / "same.png"
    image.save(path)
    assert memory.remember_image("ana", png_bytes(image), caption="x", provenance=["t2"]) == first
    assert memory.remember_image("ana", str(path), caption="y") == first
    (item,) = memory.list_items("ana", kinds=["image"])
    assert item.provenance == ["t1", "t2"]
    assert len(list(Path(str(item.image_path)).parent.iterdir())) == 1  # no orphan files


@pytest.mark.parametrize("bad", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n broken"])
def test_malformed_images_are_refused_and_nothing_is_stored(memory: Memory, bad: bytes) -> None:
    with pytest.raises(InvalidInputError):
        memory.remember_image("ana", bad, caption="broken")
    assert memory.list_items("ana") == []
    with pytest.raises(InvalidInputError):
        memory.remember_image("ana", "/no/such/file.png", caption="missing")
    with pytest.raises(InvalidInputError):
        memory.remember_image("ana", picture(3), caption="   ")


def test_an_image_slot_supersedes_the_previous_image(memory: Memory) -> None:
    old = memory.remember_image("ana", picture(4), caption="old avatar", key="avatar")
    new = memory.remember_image("ana", picture(5), caption="new avatar", key="avatar")
    assert [item.id for item in memory.list_items("ana")] == [new]
    history = memory.list_items("ana", include_history=True)
    assert {item.id for item in history} == {old, new}
    assert [entry["action"] for entry in memory.history("ana", old)] == ["add", "supersede"]


def test_forget_and_forget_user_delete_the_image_files(memory: Memory) -> None:
    one = memory.remember_image("ana", picture(6), caption="a cat")
    two = memory.remember_image("ana", picture(7), caption="a dog")
    other = memory.remember_image("bob", picture(8), caption="a horse")
    path_one = Path(str(memory.get("ana", one).image_path))
    path_two = Path(str(memory.get("ana", two).image_path))
    memory.forget("ana", one)
    assert not path_one.exists() and path_two.exists()
    counts = memory.forget_user("ana")
    assert counts["concepts"] == 1
    assert not path_two.exists() and not path_two.parent.exists()
    assert Path(str(memory.get("bob", other).image_path)).is_file()


def test_another_user_cannot_see_or_touch_an_image(memory: Memory) -> None:
    item_id = memory.remember_image("ana", picture(9), caption="Ana's passport photo")
    assert all(hit.id != item_id for hit in memory.retrieve("bob", "passport photo", k=10))
    with pytest.raises(NotFoundError):
        memory.get("bob", item_id)
    with pytest.raises(NotFoundError):
        memory.forget("bob", item_id)
    assert Path(str(memory.get("ana", item_id).image_path)).is_file()


def test_retrieving_by_image_needs_an_image_embedder(memory: Memory) -> None:
    memory.remember_image("ana", picture(10), caption="a lake")
    with pytest.raises(InvalidInputError, match="CONFIDANTE_IMAGE_EMBEDDER"):
        memory.retrieve("ana", image=picture(10))
    with pytest.raises(InvalidInputError):
        memory.retrieve("ana")


def test_retrieve_by_image_finds_the_same_image_first(clip_memory: Memory) -> None:
    ids = [
        clip_memory.remember_image("ana", picture(seed), caption=f"photo number {seed}")
        for seed in range(20, 26)
    ]
    clip_memory.remember("ana", "Ana likes jazz.")
    for seed, item_id in zip(range(20, 26), ids, strict=True):
        hits = clip_memory.retrieve("ana", image=picture(seed), k=3)
        assert hits[0].id == item_id
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)
        assert all(hit.kind == "image" for hit in hits)


def test_image_search_never_returns_another_users_image(clip_memory: Memory) -> None:
    clip_memory.remember_image("ana", picture(30), caption="Ana's secret drawing")
    assert clip_memory.retrieve("bob", image=picture(30), k=5) == []
    mine = clip_memory.remember_image("bob", picture(31), caption="Bob's sketch")
    hits = clip_memory.retrieve("bob", "secret drawing", image=picture(30), k=5)
    assert [hit.id for hit in hits] == [mine]


def test_text_and_image_rankings_are_fused(clip_memory: Memory) -> None:
    image_id = clip_memory.remember_image("ana", picture(40), caption="harbour at dawn")
    fact_id = clip_memory.remember("ana", "Ana sails every weekend from the harbour.")
    hits = clip_memory.retrieve("ana", "harbour", k=5)
    assert {hit.id for hit in hits} == {image_id, fact_id}
    assert hits == sorted(hits, key=lambda hit: -hit.score)
    by_both = clip_memory.retrieve("ana", "harbour", image=picture(40), k=5)
    assert by_both[0].id == image_id


def test_image_embedder_setting(tmp_path: Path, settings: Settings) -> None:
    assert build_image_embedder(None) is None
    assert isinstance(build_image_embedder("clip:/x"), ClipImageEmbedder)
    with pytest.raises(InvalidInputError):
        build_image_embedder("resnet")
    missing = ClipImageEmbedder(str(tmp_path / "absent"))
    with pytest.raises(ModelNotAvailableError, match="CONFIDANTE_IMAGE_EMBEDDER"):
        missing.embed_images([picture(1)])
    opened = Memory.open(settings=settings.model_copy(update={"image_embedder": "clip:/x"}))
    try:
        assert isinstance(opened.image_embedder, ClipImageEmbedder)
        assert opened.images.root == settings.data_dir / "confidante-images"
    finally:
        opened.close()
