"""Personalized image generation on a tiny random-weight SD pipeline built locally."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import load_benchmark
from PIL import Image

pytest.importorskip("torch")
pytest.importorskip("transformers")

from confidante.errors import InvalidInputError
from confidante.memory.embeddings.images import ClipImageEmbedder
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import image_keywords
from confidante.models.tiny_clip import build_tiny_clip
from confidante.settings import Settings
from confidante.tools.imagine import (
    EmbeddingScorer,
    GenerationOptions,
    ImageKeywords,
    Imaginer,
    Scored,
    ScoringContext,
    imagine_tools,
    load_pipeline,
    select,
    tiny_pipeline_path,
    z_score,
)
from confidante.tools.imagine.generate import draw, mix, soft_preference
from confidante.tools.imagine.preferences import Behaviour, ground

FAST = GenerationOptions(candidates=3, steps=2, seed=7)
REQUEST = "a poster for a sci-fi film"


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_pipeline_path(tmp_path_factory.mktemp("imagine-cache"))


@pytest.fixture(scope="module")
def loaded(tiny_path: Path) -> tuple[Any, Any]:
    return load_pipeline(tiny_path)


@pytest.fixture
def store(settings: Settings) -> Iterator[Memory]:
    memory = Memory.open(settings=settings)
    memory.remember("ana", "The user likes teal and orange.")
    memory.remember("ana", "The user loves retro neon posters.")
    memory.remember("ana", "Remind me to buy milk.", kind="reminder")
    memory.remember("bob", "The user likes pastel watercolor.")
    yield memory
    memory.close()


def imaginer_for(memory: Memory, loaded: tuple[Any, Any], **kwargs: Any) -> Imaginer:
    pipeline, placement = loaded
    return Imaginer(memory, ScriptedChatModel(), pipeline, placement, **kwargs)


class ControlledScorer:
    """Returns fixed (d_p, d_t) per candidate index."""

    name = "controlled"

    def __init__(self, scores: list[tuple[float, float]]) -> None:
        self.scores = scores
        self.seen: list[ScoringContext] = []

    def score(
        self, candidates: Sequence[Scored], context: ScoringContext
    ) -> list[tuple[float, float]]:
        self.seen.append(context)
        return self.scores[: len(candidates)]


# ------------------------------------------------------------------ tiny pipeline
def test_tiny_pipeline_is_built_locally_and_loads_by_path(tiny_path: Path, loaded: Any) -> None:
    assert (tiny_path / "model_index.json").is_file()
    assert (tiny_path / "tokenizer" / "tokenizer.json").is_file()
    pipeline, placement = loaded
    assert placement.device == "cpu" and placement.dtype == "float32"
    tokens = pipeline.tokenizer.tokenize("sci-fi poster")  # character-level: one per byte
    assert tokens[-6:] == ["p", "o", "s", "t", "e", "r</w>"]
    assert tiny_pipeline_path(tiny_path.parents[1]) == tiny_path  # cached, not rebuilt


def test_sampling_is_seeded(loaded: Any) -> None:
    pipeline, placement = loaded
    options = GenerationOptions(weights=(0.5, 0.5), steps=2, seed=3)
    first = draw(pipeline, placement, "poster", [("teal", 1.0)], options)
    again = draw(pipeline, placement, "poster", [("teal", 1.0)], options)
    assert np.array_equal(np.asarray(first[0].image), np.asarray(again[0].image))
    assert not np.array_equal(np.asarray(first[0].image), np.asarray(first[1].image))  # seed 4


def test_preference_embedding_reaches_the_unet(loaded: Any) -> None:
    pipeline, placement = loaded
    plain = GenerationOptions(weights=(0.0,), steps=2, seed=5)
    mixed = GenerationOptions(weights=(0.9,), steps=2, seed=5)
    sources = [("retro neon", 1.0), ("teal", 1.0)]
    a = np.asarray(draw(pipeline, placement, "poster", sources, plain)[0].image, dtype=float)
    b = np.asarray(draw(pipeline, placement, "poster", sources, mixed)[0].image, dtype=float)
    c = np.asarray(draw(pipeline, placement, "poster", [], mixed)[0].image, dtype=float)
    assert np.abs(a - b).max() > 0  # same seed, different conditioning
    assert np.array_equal(a, c)  # without preferences λ changes nothing


def test_soft_preference_is_the_weighted_mean(loaded: Any) -> None:
    import torch

    from confidante.tools.imagine.generate import encode

    pipeline, _ = loaded
    soft = soft_preference(pipeline, [("teal", 3.0), ("neon", 1.0), ("ignored", 0.0)])
    parts = encode(pipeline, ["teal", "neon"])
    assert torch.allclose(soft[0], 0.75 * parts[0] + 0.25 * parts[1], atol=1e-5)
    assert soft_preference(pipeline, []) is None
    assert torch.equal(mix(parts[:1], None, 0.7), parts[:1])
    assert torch.allclose(mix(parts[:1], soft, 1.0), soft)


# ------------------------------------------------------------------ selection
def test_select_is_argmax_of_z() -> None:
    scores = [(0.9, 0.2), (0.5, 0.5), (0.2, 0.9)]
    z, chosen = select(scores, 0.5)
    assert z == pytest.approx([0.5 * math.log(p) + 0.5 * math.log(t) for p, t in scores])
    assert chosen == 1
    assert select(scores, 1.0)[1] == 0
    assert select(scores, 0.0)[1] == 2
    assert select([(0.5, 0.5), (0.5, 0.5)], 0.3)[1] == 0  # first on ties
    assert z_score(0.0, 1.0, 0.5) == pytest.approx(0.5 * math.log(1e-6))
    with pytest.raises(InvalidInputError):
        select(scores, 1.5)


@pytest.mark.parametrize(("alpha", "expected"), [(1.0, 2), (0.0, 0), (0.5, 1)])
def test_alpha_picks_preference_or_target_best(
    store: Memory, loaded: Any, tmp_path: Path, alpha: float, expected: int
) -> None:
    scores = [(0.30, 0.95), (0.70, 0.75), (0.90, 0.20)]  # 0: target-best, 2: preference-best
    scorer = ControlledScorer(scores)
    imaginer = imaginer_for(store, loaded, scorer=scorer)
    result = imaginer.imagine("ana", REQUEST, alpha=alpha, options=FAST, remember=False)
    report = result.report
    assert report.chosen == expected
    assert [(c.d_p, c.d_t) for c in report.candidates] == scores
    for candidate, (p, t) in zip(report.candidates, scores, strict=True):
        assert candidate.z == pytest.approx(alpha * math.log(p) + (1 - alpha) * math.log(t))
    assert report.chosen == max(range(3), key=lambda i: report.candidates[i].z)
    assert scorer.seen[0].target_text == "poster, sci-fi, film"


# ------------------------------------------------------------------ end to end
def test_end_to_end_on_the_tiny_pipeline(store: Memory, loaded: Any, tmp_path: Path) -> None:
    imaginer = imaginer_for(store, loaded)
    result = imaginer.imagine("ana", REQUEST, alpha=0.5, options=FAST, output_dir=tmp_path / "out")
    report = result.report
    assert report.preference_keywords == ["retro neon posters", "teal", "orange"]
    assert report.target_keywords == ["poster", "sci-fi", "film"]
    assert report.scorer.startswith("conditioning-proxy:")
    assert [c.preference_weight for c in report.candidates] == [0.0, 0.25, 0.5]
    assert [c.seed for c in report.candidates] == [7, 8, 9]
    for candidate in report.candidates:
        assert candidate.path is not None
        with Image.open(candidate.path) as image:
            assert image.size == (64, 64)
        assert 0 < candidate.d_p <= 1 and 0 < candidate.d_t <= 1
    assert report.chosen == max(range(3), key=lambda i: report.candidates[i].z)
    # the proxy: more preference weight, closer to the preferences, further from the target
    d_p = [c.d_p for c in report.candidates]
    d_t = [c.d_t for c in report.candidates]
    assert d_p == sorted(d_p) and d_t == sorted(d_t, reverse=True)
    timings = report.timings
    assert 0 < timings["diffusion_s"] < timings["total_s"]
    assert 0 < timings["outside_diffusion_share"] < 1
    assert result.chosen_image is result.images[report.chosen]
    json.loads(report.model_dump_json())


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> ClipImageEmbedder:
    return ClipImageEmbedder(str(build_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")))


def test_clip_scorer_scores_the_pixels(store: Memory, loaded: Any, clip: ClipImageEmbedder) -> None:
    imaginer = imaginer_for(store, loaded, scorer=EmbeddingScorer(clip))
    result = imaginer.imagine("ana", REQUEST, options=FAST, remember=False)
    report = result.report
    assert report.scorer == f"embedding:{clip.name}"
    vectors = clip.embed_images(result.images)
    target = clip.embed_texts(["poster, sci-fi, film"])[0]
    preference = clip.embed_texts([", ".join(report.preference_keywords)])[0]
    expected_t = (1 + vectors @ target) / 2
    expected_p = (1 + vectors @ preference) / 2
    assert [c.d_t for c in report.candidates] == pytest.approx(expected_t.tolist(), abs=1e-5)
    assert [c.d_p for c in report.candidates] == pytest.approx(expected_p.tolist(), abs=1e-5)


def test_chosen_picture_becomes_an_image_concept_that_forget_user_removes(
    store: Memory, loaded: Any, clip: ClipImageEmbedder
) -> None:
    store.image_embedder = clip  # the memory's image embedder: scorer and relevance by default
    kept = Image.new("RGB", (40, 40), (0, 128, 128))
    store.remember_image("ana", kept, caption="A teal neon street at night.")
    spy = SpyImaginer(store, ScriptedChatModel(), *loaded)
    result = spy.imagine("ana", REQUEST, alpha=0.6, options=FAST)
    report = result.report
    assert report.scorer == f"embedding:{clip.name}"
    (caption_weight,) = [w for text, w in spy.sources[0] if text == "A teal neon street at night."]
    picture = clip.embed_images([kept])[0]
    relevance = (1 + picture @ clip.embed_texts(["poster, sci-fi, film"])[0]) / 2
    assert caption_weight == pytest.approx(float(relevance), abs=1e-5)
    assert report.memory_id is not None and report.image_path is not None
    assert Path(report.image_path).is_file()
    item = store.get("ana", report.memory_id)
    assert item.kind == "image" and item.provenance == ["imagine"]
    chosen = report.candidates[report.chosen]
    assert item.attributes["scores"] == {
        "d_p": chosen.d_p, "d_t": chosen.d_t, "z": chosen.z, "alpha": 0.6
    }  # fmt: skip
    assert item.attributes["preference_keywords"] == report.preference_keywords
    with Image.open(report.image_path) as stored:
        assert np.array_equal(np.asarray(stored.convert("RGB")), np.asarray(result.chosen_image))
    assert all(hit.id != report.memory_id for hit in store.list_items("bob"))
    store.forget_user("ana")
    assert not Path(report.image_path).exists()
    assert store.list_items("ana") == []


# ------------------------------------------------------------------ preferences
def test_scripted_rule_and_grounding() -> None:
    prompt = (
        "What the user did and said:\n- The user likes teal and orange.\n"
        "- The user kept a picture: a beagle on a beach\n\nRequest: a birthday card for my mum"
    )
    answer = image_keywords(prompt)
    assert answer == {
        "preference": ["teal", "orange", "beagle beach"],
        "target": ["birthday", "card", "mum"],
    }
    behaviour = Behaviour(lines=["The user likes teal."])
    grounded = ground(
        ImageKeywords(preference=["Teal", "gothic castles"], target=[]), behaviour, "a red car"
    )
    assert grounded.preference == ["teal"]  # the invented taste is dropped
    assert grounded.target == ["red", "car"]  # the request's own words


def test_isolation_between_users(store: Memory, loaded: Any) -> None:
    chat = ScriptedChatModel()
    pipeline, placement = loaded
    scorer = ControlledScorer([(0.5, 0.5)] * 3)
    imaginer = Imaginer(store, chat, pipeline, placement, scorer=scorer)
    report = imaginer.imagine("bob", REQUEST, options=FAST, remember=False).report
    assert report.preference_keywords == ["pastel watercolor"]
    prompt = json.dumps([m for call in chat.calls for m in call["messages"] if m["role"] == "user"])
    assert "pastel watercolor" in prompt
    for secret in ("teal", "orange", "neon", "milk"):
        assert secret not in prompt and secret not in scorer.seen[0].preference_text
    carol = imaginer.imagine("carol", REQUEST, options=FAST, remember=False).report
    assert carol.preference_keywords == []  # a new user inherits nobody's taste


def test_bad_input_is_refused(store: Memory, loaded: Any) -> None:
    imaginer = imaginer_for(store, loaded)
    with pytest.raises(InvalidInputError):
        imaginer.imagine("ana", "   ", options=FAST)
    with pytest.raises(InvalidInputError):
        imaginer.imagine("ana", REQUEST, alpha=-0.1, options=FAST)
    with pytest.raises(InvalidInputError):
        imaginer.imagine("ana", REQUEST, options=GenerationOptions(candidates=0))
    with pytest.raises(InvalidInputError):
        imaginer.imagine("ana", REQUEST, options=GenerationOptions(height=30))


class SpyImaginer(Imaginer):
    """Records the soft-preference sources each call draws with."""

    sources: list[list[tuple[str, float]]]

    def _draw(self, target: str, sources: Any, options: Any, progress: bool) -> Any:
        self.sources = [*getattr(self, "sources", []), list(sources)]
        return super()._draw(target, sources, options, progress)


def test_kept_pictures_condition_only_their_owner(store: Memory, loaded: Any) -> None:
    store.remember("ana", "A beagle on a beach at sunset.", kind="image")
    pipeline, placement = loaded
    scorer = ControlledScorer([(0.5, 0.5)] * 3)
    spy = SpyImaginer(store, ScriptedChatModel(), pipeline, placement, scorer=scorer)
    ana = spy.imagine("ana", REQUEST, options=FAST, remember=False).report
    spy.imagine("bob", REQUEST, options=FAST, remember=False)
    ana_sources, bob_sources = spy.sources
    assert ("A beagle on a beach at sunset.", 0.5) in ana_sources  # caption, default relevance
    assert ("teal", 1.0) in ana_sources and "beagle beach sunset" in ana.preference_keywords
    assert bob_sources == [("pastel watercolor", 1.0)]


# ------------------------------------------------------------------ tool and CLI
async def test_graph_tool_takes_the_user_from_the_config(store: Memory, loaded: Any) -> None:
    built: list[Imaginer] = []

    def factory() -> Imaginer:
        built.append(imaginer_for(store, loaded, scorer=ControlledScorer([(0.5, 0.5)] * 3)))
        return built[-1]

    (tool,) = imagine_tools(factory, options=FAST)
    assert tool.metadata == {"side_effect": True}
    assert "user" not in json.dumps(tool.args)
    reply = await tool.ainvoke({"request": REQUEST}, config={"configurable": {"user_id": "bob"}})
    assert "pastel watercolor" in reply and "teal" not in reply
    await tool.ainvoke({"request": REQUEST}, config={"configurable": {"user_id": "ana"}})
    assert len(built) == 1  # loaded once
    with pytest.raises(InvalidInputError):
        await tool.ainvoke({"request": REQUEST}, config={})


@pytest.mark.slow  # a subprocess importing the whole stack
def test_cli_json_report(cli_env: dict[str, str], tiny_path: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "confidante.cli", "imagine", REQUEST, "--user", "dana"]
    options = ["--model", str(tiny_path), "--candidates", "2", "--steps", "2", "--alpha", "0.7"]
    result = subprocess.run(
        [*command, *options, "--out", str(tmp_path / "out"), "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["alpha"] == 0.7 and len(report["candidates"]) == 2
    assert report["chosen"] == max(range(2), key=lambda i: report["candidates"][i]["z"])
    assert all(Path(c["path"]).is_file() for c in report["candidates"])


def test_cli_needs_exactly_one_model() -> None:
    from typer.testing import CliRunner

    from confidante.cli.app import app

    for extra in ([], ["--tiny", "--model", "somewhere"]):
        arguments = ["imagine", REQUEST, "--user", "u", *extra]
        result = CliRunner().invoke(app, arguments, env={"CONFIDANTE_IMAGE_MODEL": None})
        assert result.exit_code == 2 and "--tiny" in result.output


def test_benchmark_runs_on_the_tiny_pipeline(tiny_path: Path, tmp_path: Path) -> None:
    bench = load_benchmark("imagine.py", "benchmark_imagine")
    out = tmp_path / "figures.json"
    argv = ["--model", str(tiny_path), "--candidates", "2", "--steps", "1", "--repeats", "1"]
    assert bench.main([*argv, "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["candidates"] == 2 and figures["device"] == "cpu"
    for name in ("pmg", "baseline"):
        assert 0 < figures[name]["outside_diffusion_share"] < 1
        assert figures[name]["per_candidate_s"] > 0


def test_public_names_exist() -> None:
    import confidante.tools.imagine as imagine

    assert all(hasattr(imagine, name) for name in imagine.__all__)


def test_placement_and_loading_errors(tmp_path: Path) -> None:
    from confidante.errors import ConfigurationError, ModelNotAvailableError
    from confidante.tools.imagine import choose_placement

    assert choose_placement("cpu").dtype == "float32"
    assert choose_placement("cpu", "bfloat16").dtype == "bfloat16"
    with pytest.raises(InvalidInputError):
        choose_placement("cpu", "float8")
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ConfigurationError, match="CUDA"):
            choose_placement("cuda")
    with pytest.raises(ModelNotAvailableError, match="--allow-download"):
        load_pipeline(tmp_path / "no-such-model")


def test_load_with_a_named_clip(store: Memory, tiny_path: Path, clip: ClipImageEmbedder) -> None:
    imaginer = Imaginer.load(store, ScriptedChatModel(), tiny_path, clip=clip.model)
    assert isinstance(imaginer.scorer, EmbeddingScorer)
    assert imaginer.scorer.name == f"embedding:clip:{clip.model}"[: len("embedding:") + 100]
    assert imaginer.image_embedder is imaginer.scorer.embedder
