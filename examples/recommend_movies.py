"""Recommend movies from a small catalog built here, then close the loop with feedback.

Runs offline in a few seconds: a temporary SQLite memory, a dozen movies, a few other viewers
for the collaborative signal, and the user's own memories for constraints and preferences.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from confidante._sync import run_sync
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings
from confidante.tools.recommend import CatalogItem, Recommender

MOVIES = [
    ("alien", "Alien (1979)", ["Horror", "Sci-Fi"]),
    ("aliens", "Aliens (1986)", ["Action", "Sci-Fi"]),
    ("blade-runner", "Blade Runner (1982)", ["Sci-Fi", "Thriller"]),
    ("dune", "Dune (2021)", ["Adventure", "Sci-Fi"]),
    ("arrival", "Arrival (2016)", ["Drama", "Sci-Fi"]),
    ("shining", "The Shining (1980)", ["Horror"]),
    ("toy-story", "Toy Story (1995)", ["Animation", "Comedy"]),
    ("up", "Up (2009)", ["Animation", "Adventure"]),
    ("paddington", "Paddington (2014)", ["Comedy", "Family"]),
    ("heat", "Heat (1995)", ["Action", "Crime"]),
    ("before-sunrise", "Before Sunrise (1995)", ["Drama", "Romance"]),
    ("amelie", "Amelie (2001)", ["Comedy", "Romance"]),
]
VIEWERS = {
    "v1": ["alien", "aliens", "blade-runner", "dune"],
    "v2": ["aliens", "blade-runner", "arrival", "dune"],
    "v3": ["toy-story", "up", "paddington"],
    "v4": ["before-sunrise", "amelie", "arrival"],
    "v5": ["heat", "aliens", "blade-runner"],
}


def show(title: str, found: list) -> None:  # type: ignore[type-arg]
    print(title)
    for rank, rec in enumerate(found, 1):
        print(f"  {rank}. {rec.item.title:<24} {rec.reason}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            config_file=Path(folder) / "absent.toml",
            data_dir=Path(folder),
            model="scripted",
            database_url=None,
        )
        memory = Memory.open(settings=settings)
        recommender = Recommender(memory, model=ScriptedChatModel(), rerank=True)
        items = [CatalogItem(id=i, title=t, attributes={"genres": g}) for i, t, g in MOVIES]
        run_sync(recommender.catalog.aadd(items))
        for viewer, watched in VIEWERS.items():
            for item in watched:
                recommender.interact(viewer, item, "viewed")

        memory.remember("ana", "Ana dislikes horror movies.")
        memory.remember("ana", "Ana already owns Dune.")
        memory.remember("ana", "Ana likes thoughtful science fiction.")
        recommender.interact("ana", "aliens", "rated", rating=4.5)

        first = recommender.recommend("ana", k=4)
        show("For ana:", first)
        recommender.feedback("ana", first[0].item.id, accepted=False)
        show(f"After ana rejected {first[0].item.title}:", recommender.recommend("ana", k=4))
        show("For a new user (popularity):", recommender.recommend("newcomer", k=3))
        memory.close()


if __name__ == "__main__":
    main()
