"""The recommendation rerank on the embedded local model (slow): a usable order of numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from confidante._sync import run_sync
from confidante.models.local import LocalChatModel
from confidante.settings import Settings
from confidante.tools.recommend.rerank import arerank

CANDIDATES = [
    "Toy Story (1995). Adventure, Animation, Children, Comedy, Fantasy",
    "Matrix, The (1999). Action, Sci-Fi, Thriller",
    "Shining, The (1980). Horror",
    "Notebook, The (2004). Drama, Romance",
    "Alien (1979). Horror, Sci-Fi",
]


@pytest.mark.slow
def test_the_local_model_gives_a_usable_rerank(bundled_gguf: Path, settings: Settings) -> None:
    """Issue 25: the rerank failed on every call of the default model (an empty list)."""
    local = settings.model_copy(update={"model": "local", "model_path": bundled_gguf})
    model = LocalChatModel.from_settings(local)
    order = run_sync(
        arerank(model, ["The user loves science fiction."], CANDIDATES, "a space film", retries=0)
    )
    assert sorted(order) == list(range(len(CANDIDATES)))
