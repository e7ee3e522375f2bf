"""Imagine benchmark: seconds per candidate and the share of time outside the diffusion steps.

EVAL.md §6. Runs PMG (``Imaginer.imagine``: keyword extraction with the chat model, prompt
embedding mixing, sampling, scoring, selection, remembering) and, in the same process on the
same pipeline, the baseline: the plain pipeline called with the request as its prompt, once per
candidate, with the same steps and seeds. "Diffusion steps" is the denoising loop, timed from
the first UNet call to the end of the last step of each candidate; everything else (keyword
extraction, text encoding, latent set-up, VAE decoding, scoring, saving) is "outside".
The default model is the tiny random-weight pipeline built locally (CPU, no download); pass
``--model PATH_OR_ID`` (and ``--device cuda``) for a real one. No data files are read.

Each run is for a fresh user with the same three remembered tastes, so repeats do equal work.
Figures are medians over ``--repeats`` runs after one warm-up call, PMG and baseline
interleaved; CPU seconds (all threads of the process) are shown beside wall seconds because
wall time is noisy on a shared machine.

Usage: ``python benchmarks/imagine.py [--model PATH] [--candidates 4] [--steps 4]
[--repeats 3] [--size N] [--device cpu] [--json OUT]``
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings
from confidante.tools.imagine import GenerationOptions, Imaginer, tiny_pipeline_path
from confidante.tools.imagine.generate import _StepClock

REQUEST = "a poster for a sci-fi film"
TASTE = [
    "The user likes teal and orange.",
    "The user loves retro neon posters.",
    "The user liked the film Blade Runner.",
]


def baseline(imaginer: Imaginer, options: GenerationOptions) -> dict[str, float]:
    """The plain pipeline on the request text: per-candidate and diffusion seconds."""
    import torch

    pipeline = imaginer.pipeline
    total = diffusion = 0.0
    count = len(options.mixing_weights())
    for index in range(count):
        clock = _StepClock(None)
        hook = pipeline.unet.register_forward_pre_hook(clock.before_unet)
        started = time.perf_counter()
        try:
            pipeline(
                REQUEST,
                num_inference_steps=options.steps,
                guidance_scale=options.guidance_scale,
                height=options.height,
                width=options.width,
                generator=torch.Generator("cpu").manual_seed(options.seed + index),
                callback_on_step_end=clock.after_step,
            )
        finally:
            hook.remove()
        total += time.perf_counter() - started
        diffusion += clock.seconds
    return {
        "per_candidate_s": total / count,
        "diffusion_s": diffusion,
        "total_s": total,
        "outside_diffusion_share": 1 - diffusion / total,
    }


def run(
    model: str | None,
    candidates: int,
    steps: int,
    repeats: int,
    size: int | None,
    device: str | None,
    cache_dir: Path | None,
) -> dict[str, Any]:
    """Measure PMG and the baseline; return every figure."""
    scratch = Path(tempfile.mkdtemp(prefix="imagine-bench-"))
    settings = Settings(model="scripted", data_dir=scratch, cache_dir=cache_dir or scratch)
    memory = Memory.open(settings=settings)
    users = [f"bench-{i}" for i in range(repeats + 1)]  # a fresh user per run: equal work
    for user in users:
        for text in TASTE:
            memory.remember(user, text)
    started = time.perf_counter()
    source = model or tiny_pipeline_path(settings.cache_dir)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    imaginer = Imaginer.load(memory, ScriptedChatModel(), source, device=device)
    load_s = time.perf_counter() - started
    options = GenerationOptions(candidates=candidates, steps=steps, height=size, width=size)
    warm = GenerationOptions(candidates=1, steps=min(steps, 2), height=size, width=size)
    imaginer.imagine(users[-1], REQUEST, options=warm, remember=False)  # first-call set-up
    runs, bases = [], []
    for user in users[:-1]:  # interleaved, so a change of machine load hits both alike
        cpu = time.process_time()
        report = imaginer.imagine(user, REQUEST, options=options).report
        report.timings["per_candidate_cpu_s"] = (time.process_time() - cpu) / candidates
        runs.append(report)
        cpu = time.process_time()
        bases.append(baseline(imaginer, options))
        bases[-1]["per_candidate_cpu_s"] = (time.process_time() - cpu) / candidates
    memory.close()

    def median(rows: Sequence[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    timings = [report.timings for report in runs]
    pmg = {key: median(timings, key) for key in timings[0]}
    base = {key: median(bases, key) for key in bases[0]}
    return {
        "model": str(source),
        "device": imaginer.placement.device,
        "dtype": imaginer.placement.dtype,
        "candidates": candidates,
        "steps": steps,
        "repeats": repeats,
        "size": size,
        "build_s": build_s if model is None else None,
        "load_s": load_s,
        "pmg": pmg,
        "baseline": base,
        "ratio_per_candidate": pmg["per_candidate_s"] / base["per_candidate_s"],
        "ratio_per_candidate_cpu": pmg["per_candidate_cpu_s"] / base["per_candidate_cpu_s"],
        "scorer": runs[0].scorer,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", help="SD model folder or hub id (default: the tiny one)")
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, help="image side in pixels (default: the model's)")
    parser.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    parser.add_argument("--cache-dir", type=Path, help="where the tiny pipeline is kept")
    parser.add_argument("--json", type=Path, help="write all figures to this file")
    args = parser.parse_args(argv)
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    for library in (diffusers_logging, transformers_logging):
        library.set_verbosity_error()
        library.disable_progress_bar()
    result = run(
        args.model,
        args.candidates,
        args.steps,
        args.repeats,
        args.size,
        args.device,
        args.cache_dir,
    )
    console = Console()
    table = Table(
        "method", "s / candidate", "CPU s / candidate", "diffusion s", "outside diffusion",
        "total s",
        title=f"{result['model']} on {result['device']}/{result['dtype']}, "
        f"{args.candidates} candidates × {args.steps} steps, median of {args.repeats}",
    )  # fmt: skip
    for name in ("pmg", "baseline"):
        row = result[name]
        table.add_row(
            name,
            f"{row['per_candidate_s']:.3f}",
            f"{row['per_candidate_cpu_s']:.3f}",
            f"{row['diffusion_s']:.3f}",
            f"{100 * row['outside_diffusion_share']:.1f}%",
            f"{row['total_s']:.3f}",
        )
    console.print(table)
    pmg = result["pmg"]
    console.print(
        f"PMG / baseline per candidate: {result['ratio_per_candidate']:.2f}× wall, "
        f"{result['ratio_per_candidate_cpu']:.2f}× CPU; PMG outside the "
        f"steps: extraction {pmg['extraction_s']:.3f} s, scoring {pmg['scoring_s']:.3f} s, "
        f"save+remember {pmg['save_and_remember_s']:.3f} s; load {result['load_s']:.2f} s"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
        console.print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
