"""Conditioning and sampling (PMG step 2), training-free, through the pipeline's ``prompt_embeds``.

The text encoder of the pipeline encodes the target prompt (the target keywords) into ``T``,
and every preference source (each preference keyword, and the caption of each of the user's
kept pictures) into ``P_i``, all padded to the encoder's full length. The **soft preference
embedding** is their weighted mean ``S = Σ w_i P_i / Σ w_i`` (a keyword weighs 1; a kept
picture weighs its relevance, see :mod:`confidante.tools.imagine.imagine`): a point between
token sequences that no single prompt spells out. Candidate ``i`` is conditioned on
``(1 - λ_i)·T + λ_i·S`` and sampled with its own seed; the weights ``λ_i`` spread from 0 to the
configured preference weight, so the candidates span "just the target" to "target in the
user's taste", and selection (:mod:`confidante.tools.imagine.scoring`) picks along that line.
Classifier-free guidance uses the encoding of the empty prompt as usual.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from confidante.errors import InvalidInputError
from confidante.tools.imagine.runtime import Placement, require_torch


@dataclass(frozen=True)
class GenerationOptions:
    """How candidates are sampled.

    Attributes:
        candidates: How many images to draw.
        preference_weight: The largest mixing weight λ of the soft preference embedding (0..1).
        weights: Explicit λ per candidate (overrides ``candidates``/``preference_weight``).
        steps: Denoising steps per image.
        guidance_scale: Classifier-free guidance scale.
        height: Image height in pixels (default: the model's).
        width: Image width in pixels (default: the model's).
        seed: Seed of candidate 0; candidate ``i`` uses ``seed + i``.
    """

    candidates: int = 4
    preference_weight: float = 0.5
    weights: tuple[float, ...] | None = None
    steps: int = 30
    guidance_scale: float = 7.5
    height: int | None = None
    width: int | None = None
    seed: int = 0

    def mixing_weights(self) -> list[float]:
        """Return λ for each candidate (evenly from 0 to ``preference_weight``)."""
        if self.weights is not None:
            weights = list(self.weights)
        elif self.candidates == 1:
            weights = [self.preference_weight]
        else:
            step = self.preference_weight / (self.candidates - 1) if self.candidates > 1 else 0
            weights = [round(i * step, 6) for i in range(self.candidates)]
        if not weights or not 1 <= len(weights) <= 64:
            raise InvalidInputError("candidates must be between 1 and 64")
        if any(not 0.0 <= weight <= 1.0 for weight in weights):
            raise InvalidInputError("preference weights must be between 0 and 1")
        return weights

    def check(self) -> None:
        """Validate the options (``InvalidInputError`` names the bad one)."""
        if self.steps < 1 or self.steps > 1000:
            raise InvalidInputError("steps must be between 1 and 1000")
        for name in ("height", "width"):
            value = getattr(self, name)
            if value is not None and (value < 8 or value % 8):
                raise InvalidInputError(f"{name} must be a multiple of 8 of at least 8")
        if self.guidance_scale < 0:
            raise InvalidInputError("guidance_scale must not be negative")
        self.mixing_weights()


@dataclass(frozen=True)
class Drawn:
    """One sampled candidate.

    Attributes:
        index: Its position.
        seed: Its seed.
        preference_weight: Its λ.
        image: The picture.
        diffusion_s: Seconds inside the denoising loop (first UNet call to last step's end).
        pipeline_s: Seconds of the whole pipeline call (loop plus latent set-up and decoding).
    """

    index: int
    seed: int
    preference_weight: float
    image: Image.Image
    diffusion_s: float
    pipeline_s: float


def encode(pipeline: Any, texts: Sequence[str]) -> Any:
    """Encode prompts with the pipeline's own text encoder: shape ``(len(texts), L, D)``."""
    torch = require_torch()
    with torch.no_grad():
        embeds, _ = pipeline.encode_prompt(
            list(texts), pipeline.device, 1, do_classifier_free_guidance=False
        )
    return embeds


def soft_preference(pipeline: Any, sources: Sequence[tuple[str, float]]) -> Any | None:
    """Return the weighted mean of the encoded sources, shape ``(1, L, D)`` (None if none)."""
    sources = [(text, weight) for text, weight in sources if text.strip() and weight > 0]
    if not sources:
        return None
    torch = require_torch()
    encoded = encode(pipeline, [text for text, _ in sources])
    weights = torch.tensor([w for _, w in sources], dtype=encoded.dtype, device=encoded.device)
    return (encoded * weights[:, None, None]).sum(0, keepdim=True) / weights.sum()


def mix(target: Any, preference: Any | None, weight: float) -> Any:
    """Return ``(1 - weight)·target + weight·preference`` (``target`` alone without one)."""
    if preference is None or weight == 0:
        return target
    return (1.0 - weight) * target + weight * preference


class _StepClock:
    """Times the denoising loop: from the first UNet call to the end of the last step."""

    def __init__(self, on_step: Callable[[], None] | None) -> None:
        self.on_step = on_step
        self.start: float | None = None
        self.end: float | None = None

    def before_unet(self, *_: Any) -> None:
        if self.start is None:
            self.start = time.perf_counter()

    def after_step(self, _pipe: Any, _step: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        self.end = time.perf_counter()
        if self.on_step is not None:
            self.on_step()
        return kwargs

    @property
    def seconds(self) -> float:
        return 0.0 if self.start is None or self.end is None else self.end - self.start


def draw(
    pipeline: Any,
    placement: Placement,
    target_prompt: str,
    preference_sources: Sequence[tuple[str, float]],
    options: GenerationOptions,
    *,
    on_step: Callable[[], None] | None = None,
) -> list[Drawn]:
    """Sample every candidate (blocking; call it in a worker thread from async code).

    Args:
        pipeline: A loaded Stable Diffusion pipeline.
        placement: Where it runs (for the seeded generators).
        target_prompt: What to draw (the target keywords).
        preference_sources: ``(text, weight)`` pairs of the soft preference embedding.
        options: Sampling options.
        on_step: Called after every denoising step of every candidate (progress bars).
    """
    torch = require_torch()
    options.check()
    target = encode(pipeline, [target_prompt])
    negative = encode(pipeline, [""])
    preference = soft_preference(pipeline, preference_sources)
    drawn: list[Drawn] = []
    generator_device = "cuda" if placement.device.startswith("cuda") else "cpu"
    for index, weight in enumerate(options.mixing_weights()):
        seed = options.seed + index
        clock = _StepClock(on_step)
        hook = pipeline.unet.register_forward_pre_hook(clock.before_unet)
        started = time.perf_counter()
        try:
            with torch.no_grad():
                output = pipeline(
                    prompt_embeds=mix(target, preference, weight),
                    negative_prompt_embeds=negative,
                    num_inference_steps=options.steps,
                    guidance_scale=options.guidance_scale,
                    height=options.height,
                    width=options.width,
                    generator=torch.Generator(generator_device).manual_seed(seed),
                    callback_on_step_end=clock.after_step,
                )
        finally:
            hook.remove()
        elapsed = time.perf_counter() - started
        drawn.append(Drawn(index, seed, weight, output.images[0], clock.seconds, elapsed))
    return drawn


__all__ = ["Drawn", "GenerationOptions", "draw", "encode", "mix", "soft_preference"]
