"""Loading a catalog: wrong files are refused, stored items are kept, reloads embed nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from confidante._sync import run_sync
from confidante.cli.app import app
from confidante.errors import InvalidInputError
from confidante.memory.embeddings.text import Embedder, Vectors
from confidante.memory.store import Memory
from confidante.settings import Settings
from confidante.tools.recommend import Catalog, CatalogItem, read_catalog_file

MOVIES = (
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
    "2,Jumanji (1995),Adventure|Children|Fantasy\n"
    "3,Grumpier Old Men (1995),Comedy|Romance\n"
)
RATINGS = "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n2,2,3.5,9649\n"
GENERIC = "id,title,text,author\nb1,Dune,Desert planet,Herbert\nb2,Emma,A matchmaker,Austen\n"


class CountingEmbedder:
    """The memory's real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.embedded: list[str] = []

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.embedded.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


@pytest.fixture
def memory(settings: Settings) -> Iterator[Memory]:
    store = Memory.open(settings=settings)
    yield store
    store.close()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["recommend", "load-catalog", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def titles(env: dict[str, str]) -> dict[str, str]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        config_file=Path(env["CONFIDANTE_CONFIG_FILE"]),
        data_dir=Path(env["CONFIDANTE_DATA_DIR"]),
        database_url=None,
    )
    memory = Memory.open(settings=settings)
    try:
        items = run_sync(Catalog(memory.database).aitems())
    finally:
        memory.close()
    return {item.id: item.title for item in items}


def test_a_ratings_file_is_refused_and_the_titles_survive(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    code, out, err = load(cli_env, str(write(tmp_path, "movies.csv", MOVIES)))
    assert code == 0 and out.strip() == "3 catalog items: 3 added, 0 unchanged"
    assert "loading the catalog: 3/3" in err  # progress on stderr (no terminal: plain lines)

    code, out, err = load(cli_env, str(write(tmp_path, "ratings.csv", RATINGS)))
    flat = " ".join(err.split())  # rich wraps the message
    assert code == 2 and out == ""
    assert "looks like an interaction log" in flat and "recommend load-log" in flat
    assert "userId, movieId, rating, timestamp" in flat
    assert titles(cli_env)["1"] == "Toy Story (1995)"


def test_missing_columns_are_named_with_the_columns_found(tmp_path: Path) -> None:
    links = write(tmp_path, "links.csv", "movieId,imdbId,tmdbId\n1,0114709,862\n")
    with pytest.raises(InvalidInputError, match=r"missing the column\(s\) title; found: movieId"):
        read_catalog_file(links)
    names = write(tmp_path, "names.csv", "name,genres\nDune,Sci-Fi\n")
    with pytest.raises(InvalidInputError, match=r"id \(or movieId, item_id\); title; found: name"):
        read_catalog_file(names)
    log = write(tmp_path, "log.json", json.dumps([{"user_id": "u1", "item_id": "b1"}]))
    with pytest.raises(InvalidInputError, match="looks like an interaction log"):
        read_catalog_file(log)
    twice = write(tmp_path, "twice.csv", "id,title\nb1,Dune\nb1,Emma\n")
    with pytest.raises(InvalidInputError, match=r"repeat an id already given .first: 'b1'"):
        read_catalog_file(twice)
    untitled = write(tmp_path, "untitled.csv", "id,title\nb1,Dune\nb2,\n")
    with pytest.raises(InvalidInputError, match="line 3: item 'b2' has no title"):
        read_catalog_file(untitled)


def test_stored_items_are_kept_unless_replace(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert load(cli_env, str(write(tmp_path, "books.csv", GENERIC)))[0] == 0
    changed = GENERIC.replace("b1,Dune,", "b1,Dune Messiah,") + "b3,Ulysses,Dublin,Joyce\n"
    code, out, err = load(cli_env, str(write(tmp_path, "books.csv", changed)))
    assert code == 0
    assert out.strip() == (
        "3 catalog items: 1 added, 1 unchanged, 1 skipped (already in the catalog with other "
        "fields)"
    )
    assert "were kept; --replace overwrites them" in " ".join(err.split())
    assert titles(cli_env) == {"b1": "Dune", "b2": "Emma", "b3": "Ulysses"}

    code, out, _ = load(cli_env, str(tmp_path / "books.csv"), "--replace")
    assert code == 0 and out.strip() == "3 catalog items: 0 added, 2 unchanged, 1 replaced"
    assert titles(cli_env)["b1"] == "Dune Messiah"


def test_a_reload_embeds_only_what_changed(memory: Memory, tmp_path: Path) -> None:
    embedder = CountingEmbedder(memory.embedder)
    catalog = Catalog(memory.database, embedder)
    items = read_catalog_file(write(tmp_path, "movies.csv", MOVIES))
    first = run_sync(catalog.aadd(items, batch_size=2))
    assert (first.added, first.total, len(embedder.embedded)) == (3, 3, 3)

    embedder.embedded.clear()
    again = run_sync(catalog.aadd(read_catalog_file(tmp_path / "movies.csv")))
    assert (again.unchanged, again.added, embedder.embedded) == (3, 0, [])

    renamed = CatalogItem(id="2", title="Jumanji", attributes=items[1].attributes)
    kept = run_sync(catalog.aadd([renamed]))
    assert (kept.kept, embedder.embedded) == (1, [])
    assert run_sync(catalog.aadd([renamed], replace=True)).replaced == 1
    assert embedder.embedded == [renamed.document()]
    stored = run_sync(catalog.avectors(["2"]))
    expected = memory.embedder.embed_documents([renamed.document()])
    assert stored is not None and float(stored[0] @ expected[0]) > 0.999


def test_progress_is_reported_per_batch(memory: Memory) -> None:
    catalog = Catalog(memory.database)
    steps: list[int] = []
    items = [CatalogItem(id=str(i), title=f"Item {i}") for i in range(5)]
    assert run_sync(catalog.aadd(items, batch_size=2, progress=steps.append)).added == 5
    assert steps == [2, 2, 1]


def test_load_log_reports_progress(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert load(cli_env, str(write(tmp_path, "movies.csv", MOVIES)))[0] == 0
    ratings = str(write(tmp_path, "ratings.csv", RATINGS))
    result = CliRunner().invoke(app, ["recommend", "load-log", ratings], env=cli_env)
    assert result.exit_code == 0 and result.stdout.strip() == "3 interactions from 2 users"
    assert "loading the log: 3/3" in result.stderr
