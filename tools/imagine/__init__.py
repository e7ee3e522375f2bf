"""Personalized image generation (PMG) with diffusers, training-free.

Following "Personalized Multimodal Generation with Large Language Models": the user's
behaviour in memory becomes natural language; the chat model extracts preference and target
keywords; the target prompt embedding is mixed with a soft preference embedding inside a
Stable Diffusion pipeline's ``prompt_embeds``; among the candidates, the one maximising
``z = α·log d_p + (1 − α)·log d_t`` is kept and remembered as an image concept.

Example:
    >>> from confidante.tools.imagine import Imaginer, tiny_pipeline_path  # doctest: +SKIP
    >>> imaginer = Imaginer.load(memory, chat_model, tiny_pipeline_path(cache))  # doctest: +SKIP
    >>> result = imaginer.imagine("ana", "a poster for a sci-fi film")  # doctest: +SKIP
    >>> result.report.chosen  # doctest: +SKIP

Needs torch and transformers (``pip install 'confidante[image]'``); they are imported on use.
"""

from __future__ import annotations

from confidante.tools.imagine.generate import GenerationOptions
from confidante.tools.imagine.imagine import (
    CandidateReport,
    Imaginer,
    ImagineReport,
    ImagineResult,
)
from confidante.tools.imagine.preferences import ImageKeywords, Keywords, extract_keywords
from confidante.tools.imagine.runtime import Placement, choose_placement, load_pipeline
from confidante.tools.imagine.scoring import (
    ConditioningProxyScorer,
    EmbeddingScorer,
    Scored,
    Scorer,
    ScoringContext,
    select,
    z_score,
)
from confidante.tools.imagine.tiny import tiny_pipeline_path
from confidante.tools.imagine.tool import imagine_tools

__all__ = [
    "CandidateReport",
    "ConditioningProxyScorer",
    "EmbeddingScorer",
    "GenerationOptions",
    "ImageKeywords",
    "ImagineReport",
    "ImagineResult",
    "Imaginer",
    "Keywords",
    "Placement",
    "Scored",
    "Scorer",
    "ScoringContext",
    "choose_placement",
    "extract_keywords",
    "imagine_tools",
    "load_pipeline",
    "select",
    "tiny_pipeline_path",
    "z_score",
]
