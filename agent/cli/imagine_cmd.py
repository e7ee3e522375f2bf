"""``confidante imagine``: draw a picture in a user's taste (PMG) and keep the best candidate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from confidante.errors import ConfidanteError, InvalidInputError

if TYPE_CHECKING:
    from confidante.settings import Settings
    from confidante.tools.imagine import GenerationOptions, ImagineReport

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Stable Diffusion model: a folder or a hub id (default: the image_model setting, "
        "CONFIDANTE_IMAGE_MODEL).",
    ),
]


def _print_report(report: ImagineReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.model_dump(), indent=2))
        return
    console = Console()
    console.print(f"preference keywords: {escape(', '.join(report.preference_keywords) or '-')}")
    console.print(f"target keywords: {escape(', '.join(report.target_keywords))}")
    table = Table("#", "seed", "λ", "d_p", "d_t", "z", "file", title=f"α = {report.alpha}")
    for c in report.candidates:
        mark = " *" if c.index == report.chosen else ""
        table.add_row(
            f"{c.index}{mark}",
            str(c.seed),
            f"{c.preference_weight:.2f}",
            f"{c.d_p:.4f}",
            f"{c.d_t:.4f}",
            f"{c.z:.4f}",
            escape(c.path or ""),
        )
    console.print(table)
    console.print(
        f"chosen: candidate {report.chosen}; memory {report.memory_id or '-'}; "
        f"picture {escape(report.image_path or '-')}; "
        f"{report.timings['per_candidate_s']:.2f} s per candidate, "
        f"{100 * report.timings['outside_diffusion_share']:.0f}% outside the diffusion steps"
    )


def _quiet_model_loading() -> None:
    """Silence the loaders' own progress bars and hints (an entry point's choice)."""
    import importlib

    try:
        for name in ("diffusers", "transformers"):
            logging = importlib.import_module(f"{name}.utils.logging")
            logging.set_verbosity_error()
            logging.disable_progress_bar()
    except ImportError:  # reported with the install hint when the pipeline is loaded
        pass


def imagine(
    request: Annotated[
        str, typer.Argument(help='What to draw, e.g. "a poster for a sci-fi film".')
    ],
    user: Annotated[str, typer.Option("--user", "-u", help="Whose taste (and memory).")],
    model: ModelOption = None,
    tiny: Annotated[
        bool, typer.Option("--tiny", help="Use the tiny random-weight pipeline built locally.")
    ] = False,
    candidates: Annotated[int, typer.Option(help="How many candidates to draw.")] = 4,
    alpha: Annotated[float, typer.Option(help="Weight of preference vs target in z.")] = 0.5,
    weight: Annotated[
        float, typer.Option(help="Largest mixing weight of the preference embedding.")
    ] = 0.5,
    steps: Annotated[int, typer.Option(help="Denoising steps per candidate.")] = 30,
    guidance: Annotated[float, typer.Option(help="Classifier-free guidance scale.")] = 7.5,
    size: Annotated[int | None, typer.Option(help="Image side in pixels.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the first candidate.")] = 0,
    clip: Annotated[
        str | None, typer.Option(help="A CLIP model (folder or hub id) to score candidates.")
    ] = None,
    device: Annotated[str | None, typer.Option(help="cuda, mps or cpu (default: best).")] = None,
    dtype: Annotated[str | None, typer.Option(help="float16, bfloat16 or float32.")] = None,
    allow_download: Annotated[
        bool, typer.Option("--allow-download", help="Let models be fetched from the hub.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Write every candidate there as PNG.")] = None,
    no_remember: Annotated[
        bool, typer.Option("--no-remember", help="Do not keep the choice in memory.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    chat_model: Annotated[
        str | None, typer.Option("--chat-model", help="Chat model: local, scripted or openai:NAME.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory (default: settings).")
    ] = None,
) -> None:
    """Draw candidates in the user's taste, score them, and keep the best as an image concept."""
    from confidante.cli.app import load_settings, quiet_libraries

    err_console = Console(stderr=True)
    settings = load_settings(chat_model, data_dir)
    if not tiny:
        model = model or settings.image_model
    if tiny == (model is not None):
        err_console.print(
            "[red]error:[/red] name a diffusion model with --model PATH_OR_ID (or the "
            "CONFIDANTE_IMAGE_MODEL setting), or --tiny"
        )
        raise typer.Exit(2)
    quiet_libraries()
    _quiet_model_loading()
    from confidante.tools.imagine.generate import GenerationOptions

    try:
        options = GenerationOptions(
            candidates=candidates,
            preference_weight=weight,
            steps=steps,
            guidance_scale=guidance,
            height=size,
            width=size,
            seed=seed,
        )
        options.check()
        report = _run(
            settings,
            request,
            user,
            model=model,
            tiny=tiny,
            clip=clip,
            device=device,
            dtype=dtype,
            allow_download=allow_download,
            out=out,
            remember=not no_remember,
            alpha=alpha,
            options=options,
        )
    except ConfidanteError as exc:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2 if isinstance(exc, InvalidInputError) else 1) from exc
    _print_report(report, as_json)


def _run(
    settings: Settings,
    request: str,
    user: str,
    *,
    model: str | None,
    tiny: bool,
    clip: str | None,
    device: str | None,
    dtype: str | None,
    allow_download: bool,
    out: Path | None,
    remember: bool,
    alpha: float,
    options: GenerationOptions,
) -> ImagineReport:
    from confidante.memory.store import Memory
    from confidante.models import build_chat_model
    from confidante.tools.imagine import Imaginer, tiny_pipeline_path

    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    try:
        source = tiny_pipeline_path(settings.cache_dir) if tiny else model
        assert source is not None
        imaginer = Imaginer.load(
            memory,
            build_chat_model(settings),
            source,
            allow_download=allow_download,
            device=device,
            dtype=dtype,
            clip=clip,
        )
        result = imaginer.imagine(
            user,
            request,
            alpha=alpha,
            options=options,
            output_dir=out,
            remember=remember,
            progress=True,
        )
        return result.report
    finally:
        memory.close()


__all__ = ["imagine"]
