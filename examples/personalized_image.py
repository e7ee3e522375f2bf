"""Personalized image generation (PMG) offline on CPU, with a tiny pipeline built locally.

python examples/personalized_image.py [OUTPUT_DIR]

Writes every candidate as a PNG and ``report.json`` (per-candidate d_p, d_t, z and ``chosen``).
The tiny pipeline has random weights: its pictures are noise, the mechanics are real. For a
real model, pass its folder or hub id to ``Imaginer.load`` (or ``confidante imagine --model``)
and a CLIP model as ``clip=`` to score what was actually drawn.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from PIL import Image

from confidante import Memory, Settings
from confidante.models.scripted import ScriptedChatModel
from confidante.tools.imagine import GenerationOptions, Imaginer, tiny_pipeline_path

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="pmg-"))
# Never the database of CONFIDANTE_DATABASE_URL: the example writes only under `out`.
settings = Settings(model="scripted", data_dir=out / "data", database_url=None)  # cache_dir: env
settings.ensure_dirs()
memory = Memory.open(settings=settings)

# What the user did: liked things and said things (any memory of theirs counts).
memory.remember("mia", "The user likes teal and orange.", kind="preference")
memory.remember("mia", "The user loves retro neon posters.", kind="preference")
memory.remember("mia", "The user liked the film Blade Runner.", kind="event")
memory.record_event("mia", "user", "I enjoy minimal cyberpunk art")
memory.remember("leo", "The user likes pastel watercolor.", kind="preference")
# A picture Mia kept earlier (an image concept: caption + file; its caption feeds her taste).
memory.remember_image(
    "mia", Image.new("RGB", (32, 32), (0, 128, 128)), caption="A teal neon street."
)

imaginer = Imaginer.load(memory, ScriptedChatModel(), tiny_pipeline_path(settings.cache_dir))
result = imaginer.imagine(
    "mia",
    "a poster for a sci-fi film",
    alpha=0.5,
    options=GenerationOptions(candidates=4, steps=4, seed=42),
    output_dir=out,
)
report = result.report
(out / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")

print("preference keywords:", report.preference_keywords)
print("target keywords:", report.target_keywords)
for c in report.candidates:
    mark = "  <- chosen" if c.index == report.chosen else ""
    print(
        f"  {Path(c.path or '').name}  λ={c.preference_weight:.2f}  "
        f"d_p={c.d_p:.4f} d_t={c.d_t:.4f} z={c.z:.4f}{mark}"
    )
assert report.chosen == max(range(len(report.candidates)), key=lambda i: report.candidates[i].z)
timings = report.timings
print(
    f"{timings['per_candidate_s']:.2f} s per candidate; "
    f"{100 * timings['outside_diffusion_share']:.0f}% of the time outside the diffusion steps"
)
print("remembered as image concept", report.memory_id, "at", report.image_path)
print("report:", out / "report.json")
print(json.dumps({"chosen": report.chosen}))
assert [hit.id for hit in memory.list_items("leo", kinds=["image"])] == []  # Mia's alone
memory.close()
