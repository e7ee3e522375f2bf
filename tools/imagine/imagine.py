"""PMG end to end: keywords from memory, conditioned sampling, scoring, choice, memory.

:class:`Imaginer` ties the steps together for one pipeline:

1. :func:`~confidante.tools.imagine.preferences.extract_keywords` (the user's behaviour in
   natural language → preference and target keywords from the chat model);
2. :func:`~confidante.tools.imagine.generate.draw` (target embedding mixed with the soft
   preference embedding at λ_i, one seed per candidate);
3. a :class:`~confidante.tools.imagine.scoring.Scorer` (d_p, d_t) and
   :func:`~confidante.tools.imagine.scoring.select` (z = α·log d_p + (1 − α)·log d_t, argmax);
4. :func:`~confidante.tools.imagine.remember.remember_picture` (the chosen picture becomes an
   image concept of the same user, with its keywords and scores).

The user's kept pictures enter twice: their captions are sources of the soft preference
embedding, each weighted by its relevance ``(1 + cos(picture, target)) / 2`` when an
image-text embedder is available (0.5 otherwise), and their pixels pull d_p when the scorer
looks at pixels. Every read and write names the one user the call is for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from PIL import Image
from pydantic import BaseModel

from confidante._sync import sync_twin
from confidante.memory.embeddings.images import ClipImageEmbedder, ImageEmbedder
from confidante.memory.store import Memory, check_user_id
from confidante.tools.imagine.generate import Drawn, GenerationOptions, draw
from confidante.tools.imagine.preferences import ImageConcept, Keywords, extract_keywords
from confidante.tools.imagine.remember import remember_picture
from confidante.tools.imagine.runtime import Placement, load_pipeline
from confidante.tools.imagine.scoring import (
    ConditioningProxyScorer,
    EmbeddingScorer,
    Scored,
    Scorer,
    ScoringContext,
    check_alpha,
    select,
)

logger = logging.getLogger(__name__)
MAX_KEPT_PICTURES = 8


class CandidateReport(BaseModel):
    """One candidate's scores (``path`` when it was written to an output folder)."""

    index: int
    seed: int
    preference_weight: float
    d_p: float
    d_t: float
    z: float
    path: str | None = None


class ImagineReport(BaseModel):
    """Everything one ``imagine`` call did; ``chosen`` is the index of the largest ``z``."""

    user_id: str
    request: str
    preference_keywords: list[str]
    target_keywords: list[str]
    target_prompt: str
    alpha: float
    model: str
    scorer: str
    device: str
    dtype: str
    candidates: list[CandidateReport]
    chosen: int
    memory_id: str | None = None
    image_path: str | None = None
    timings: dict[str, float]


@dataclass(frozen=True)
class ImagineResult:
    """The report and the candidate pictures (``images[report.chosen]`` is the choice)."""

    report: ImagineReport
    images: list[Image.Image]

    @property
    def chosen_image(self) -> Image.Image:
        """The chosen picture."""
        return self.images[self.report.chosen]


def _open_pictures(concepts: list[ImageConcept]) -> list[tuple[ImageConcept, Image.Image]]:
    pictures = []
    for concept in concepts[:MAX_KEPT_PICTURES]:
        if concept.image_path and Path(concept.image_path).is_file():
            with Image.open(concept.image_path) as image:
                pictures.append((concept, image.convert("RGB")))
    return pictures


class Imaginer:
    """Personalized image generation for the users of one memory, on one loaded pipeline.

    Args:
        memory: The users' memory (preferences are read from it, the choice stored in it).
        chat_model: Extracts the keywords.
        pipeline: A loaded Stable Diffusion pipeline (see :meth:`load`).
        placement: Where the pipeline runs.
        model_name: Shown in reports.
        scorer: Scores candidates (default: :class:`EmbeddingScorer` over the memory's image
            embedder if it has one, else :class:`ConditioningProxyScorer`).
    """

    def __init__(
        self,
        memory: Memory,
        chat_model: BaseChatModel,
        pipeline: Any,
        placement: Placement,
        *,
        model_name: str = "",
        scorer: Scorer | None = None,
    ) -> None:
        self.memory = memory
        self.chat_model = chat_model
        self.pipeline = pipeline
        self.placement = placement
        self.model_name = model_name or str(getattr(pipeline, "name_or_path", "") or "pipeline")
        self.image_embedder: ImageEmbedder | None = (
            scorer.embedder if isinstance(scorer, EmbeddingScorer) else memory.image_embedder
        )
        if scorer is None:
            scorer = (
                EmbeddingScorer(self.image_embedder)
                if self.image_embedder is not None
                else ConditioningProxyScorer(memory.embedder)
            )
        self.scorer = scorer
        self._lock = asyncio.Lock()

    @classmethod
    def load(
        cls,
        memory: Memory,
        chat_model: BaseChatModel,
        model: str | Path,
        *,
        allow_download: bool = False,
        device: str | None = None,
        dtype: str | None = None,
        clip: str | Path | None = None,
    ) -> Imaginer:
        """Load a pipeline (and a CLIP scorer when ``clip`` names one) by path or hub id."""
        pipeline, placement = load_pipeline(
            model, allow_download=allow_download, device=device, dtype=dtype
        )
        scorer = None
        if clip is not None:
            scorer = EmbeddingScorer(ClipImageEmbedder(str(clip), allow_download=allow_download))
        return cls(memory, chat_model, pipeline, placement, model_name=str(model), scorer=scorer)

    def _relevance(self, pictures: list[Image.Image], target: str) -> list[float]:
        if not pictures:
            return []
        if self.image_embedder is None:
            return [0.5] * len(pictures)
        vectors = self.image_embedder.embed_images(pictures)
        text = self.image_embedder.embed_texts([target])[0]
        return [float((1.0 + value) / 2.0) for value in vectors @ text]

    def _sources(
        self, keywords: Keywords, target: str
    ) -> tuple[list[tuple[str, float]], list[Image.Image]]:
        kept = _open_pictures(keywords.behaviour.images)
        pictures = [image for _, image in kept]
        weights = dict(zip([c.id for c, _ in kept], self._relevance(pictures, target), strict=True))
        sources = [(keyword, 1.0) for keyword in keywords.preference]
        for concept in keywords.behaviour.images:
            sources.append((concept.caption, weights.get(concept.id, 0.5)))
        return sources, pictures

    async def aimagine(
        self,
        user_id: str,
        request: str,
        *,
        alpha: float = 0.5,
        options: GenerationOptions | None = None,
        output_dir: str | Path | None = None,
        remember: bool = True,
        progress: bool = False,
    ) -> ImagineResult:
        """Draw candidates for one user's request, score them and keep the best.

        Args:
            user_id: Whose preferences to use and whose memory keeps the choice.
            request: What to draw, in the user's words.
            alpha: Weight of the preference score in z (1: only preferences; 0: only target).
            options: Sampling options (candidates, weights, steps, seed...).
            output_dir: Write every candidate there as ``candidate-<i>.png``.
            remember: Store the chosen picture as an image concept.
            progress: Show a progress bar over the denoising steps (stderr).

        Raises:
            InvalidInputError: Empty request, bad α or bad options.
            StructuredOutputError: The chat model never gave usable keywords.
        """
        check_user_id(user_id)
        alpha = check_alpha(alpha)
        options = options or GenerationOptions()
        options.check()
        started = time.perf_counter()
        keywords = await extract_keywords(self.memory, self.chat_model, user_id, request)
        extracted = time.perf_counter()
        target_prompt = ", ".join(keywords.target)
        sources, pictures = self._sources(keywords, target_prompt)
        async with self._lock:  # one pipeline, one sampling at a time
            drawn = await asyncio.to_thread(self._draw, target_prompt, sources, options, progress)
        sampled = time.perf_counter()
        context = ScoringContext(target_prompt, ", ".join(keywords.preference), pictures)
        scores = self.scorer.score([Scored(d.image, d.preference_weight) for d in drawn], context)
        z, chosen = select(scores, alpha)
        scored = time.perf_counter()
        paths = self._save(drawn, output_dir)
        candidates = [
            CandidateReport(
                index=d.index,
                seed=d.seed,
                preference_weight=d.preference_weight,
                d_p=p,
                d_t=t,
                z=zi,
                path=path,
            )
            for d, (p, t), zi, path in zip(drawn, scores, z, paths, strict=True)
        ]
        memory_id: str | None = None
        image_path: str | None = None
        if remember:
            memory_id, image_path = await self._remember(
                user_id, request, keywords, candidates[chosen], drawn[chosen], alpha
            )
        done = time.perf_counter()
        diffusion = sum(d.diffusion_s for d in drawn)
        report = ImagineReport(
            user_id=user_id,
            request=request,
            preference_keywords=keywords.preference,
            target_keywords=keywords.target,
            target_prompt=target_prompt,
            alpha=alpha,
            model=self.model_name,
            scorer=self.scorer.name,
            device=self.placement.device,
            dtype=self.placement.dtype,
            candidates=candidates,
            chosen=chosen,
            memory_id=memory_id,
            image_path=image_path,
            timings={
                "extraction_s": extracted - started,
                "sampling_s": sampled - extracted,
                "diffusion_s": diffusion,
                "scoring_s": scored - sampled,
                "save_and_remember_s": done - scored,
                "total_s": done - started,
                "per_candidate_s": (done - started) / len(drawn),
                "outside_diffusion_share": 1.0 - diffusion / max(done - started, 1e-9),
            },
        )
        return ImagineResult(report, [d.image for d in drawn])

    imagine = sync_twin(aimagine)

    def _draw(
        self,
        target_prompt: str,
        sources: list[tuple[str, float]],
        options: GenerationOptions,
        progress: bool,
    ) -> list[Drawn]:
        if not progress:
            return draw(self.pipeline, self.placement, target_prompt, sources, options)
        from rich.console import Console
        from rich.progress import Progress

        total = options.steps * len(options.mixing_weights())
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("denoising", total=total)
            return draw(
                self.pipeline,
                self.placement,
                target_prompt,
                sources,
                options,
                on_step=lambda: bar.advance(task),
            )

    @staticmethod
    def _save(drawn: list[Drawn], output_dir: str | Path | None) -> list[str | None]:
        if output_dir is None:
            return [None] * len(drawn)
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        paths: list[str | None] = []
        for candidate in drawn:
            path = folder / f"candidate-{candidate.index}.png"
            candidate.image.save(path)
            paths.append(str(path))
        return paths

    async def _remember(
        self,
        user_id: str,
        request: str,
        keywords: Keywords,
        candidate: CandidateReport,
        drawn: Drawn,
        alpha: float,
    ) -> tuple[str | None, str | None]:
        taste = ", ".join(keywords.preference)
        caption = f"{request.strip()} (in the user's taste: {taste})" if taste else request.strip()
        attributes = {
            "request": request,
            "preference_keywords": keywords.preference,
            "target_keywords": keywords.target,
            "scores": {
                "d_p": candidate.d_p,
                "d_t": candidate.d_t,
                "z": candidate.z,
                "alpha": alpha,
            },
            "seed": candidate.seed,
            "preference_weight": candidate.preference_weight,
            "model": self.model_name,
            "scorer": self.scorer.name,
        }
        memory_id = await remember_picture(
            self.memory, user_id, drawn.image, caption=caption, attributes=attributes
        )
        hit = await self.memory.aget(user_id, memory_id)
        return memory_id, hit.image_path


__all__ = ["CandidateReport", "ImagineReport", "ImagineResult", "Imaginer"]
