"""The ranking core, interaction logs and the benchmark, on small synthetic data."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest import load_benchmark

from confidante.errors import InvalidInputError
from confidante.tools.recommend.core import CoreParams, RankingCore, top_k_rows
from confidante.tools.recommend.data import leave_last_out, load_movielens, load_sequences
from confidante.tools.recommend.interests import InterestModel, quota_merge


def synthetic(users: int = 60, seed: int = 0) -> list[list[int]]:
    """Two tastes: items 0-9 and 10-19; each user walks mostly within one taste, in order."""
    rng = np.random.default_rng(seed)
    sequences = []
    for user in range(users):
        base = 0 if user % 2 == 0 else 10
        start = int(rng.integers(0, 4))
        sequences.append([base + (start + step) % 10 for step in range(6)])
    return sequences


@pytest.mark.parametrize("cf", ["ease", "itemknn"])
def test_core_recommends_within_the_taste(cf: str) -> None:
    core = RankingCore.fit(synthetic(), 20, CoreParams(cf=cf, factors=4))
    top = core.top_k([[0, 1, 2], [12, 13]], 3)
    assert set(top[0]) <= set(range(3, 10))
    assert set(top[1]) <= set(range(10, 20)) - {12, 13}
    assert top[0][0] == 3 and top[1][0] == 14  # the next step of the walk


def test_core_cold_start_and_exclusions() -> None:
    core = RankingCore.fit(synthetic(), 21)  # item 20 never seen
    cold = core.top_k([[]], 21)[0]
    assert 20 not in cold[:20] and len(set(cold[cold >= 0])) == len(cold[cold >= 0])
    top = core.top_k([[0, 1]], 5, exclude=[[2, 3]])[0]
    assert not {0, 1, 2, 3} & set(top.tolist())


def test_core_rejects_bad_input() -> None:
    with pytest.raises(InvalidInputError):
        RankingCore.fit([[0, 5]], 3)
    with pytest.raises(InvalidInputError):
        RankingCore.fit([[]], 3)
    with pytest.raises(InvalidInputError):
        RankingCore.fit([[0, 1]], 2, CoreParams(cf="nope"))


def test_top_k_rows_pads_with_minus_one() -> None:
    scores = np.array([[0.1, -np.inf, 0.5], [-np.inf, -np.inf, 1.0]], dtype=np.float32)
    assert top_k_rows(scores, 2).tolist() == [[2, 0], [2, -1]]


def test_interests_split_tastes_and_quota() -> None:
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]] * 3, dtype=np.float32)
    model = InterestModel(vectors)
    found = model.interests(list(range(12)), 2)
    assert len(found) == 2 and abs(sum(i.share for i in found) - 1.0) < 1e-5
    assert quota_merge([[1, 2, 3, 4], [5, 6]], [0.75, 0.25], 4) == [1, 5, 2, 3]
    assert quota_merge([[1], [1, 2]], [0.5, 0.5], 3) == [1, 2]


def test_loaders_and_split(tmp_path: Path) -> None:
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(
        "userId,movieId,rating,timestamp\n1,10,4.0,30\n1,11,3.0,10\n1,12,5.0,20\n2,10,1.0,5\n"
    )
    log = load_movielens(tmp_path)
    assert log.users == ["1", "2"]
    assert [log.items[i] for i in log.sequences[0]] == ["11", "12", "10"]
    assert log.ratings[0] == [3.0, 5.0, 4.0] and log.times[0] == [10.0, 20.0, 30.0]
    split = leave_last_out(log.sequences)
    assert split.users == [0] and split.history == [[log.sequences[0][0]]]
    seqs = tmp_path / "seqs.txt"
    seqs.write_text("a x y z\nb y\n")
    assert load_sequences(seqs).sequences == [[0, 1, 2], [1]]
    (tmp_path / "bad.txt").write_text("lonely\n")
    with pytest.raises(InvalidInputError):
        load_sequences(tmp_path / "bad.txt")
    with pytest.raises(InvalidInputError):
        load_movielens(tmp_path / "absent")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("recommend.py", "benchmark_recommend")


def test_benchmark_runs_on_synthetic_sequences(bench: ModuleType, tmp_path: Path) -> None:
    data = tmp_path / "seqs.txt"
    rng = np.random.default_rng(1)
    lines = []
    for user in range(150):  # 10 tastes of 10 items; each user walks through one taste
        base, start = 10 * (user % 10), int(rng.integers(0, 10))
        walk = [base + (start + step) % 10 for step in range(int(rng.integers(4, 9)))]
        lines.append(f"u{user} " + " ".join(f"i{x}" for x in walk) + "\n")
    data.write_text("".join(lines))
    out = tmp_path / "out.json"
    assert bench.main(["--data", str(data), "--format", "sequences", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    for figures in (report, report["baselines"]["popular"], report["baselines"]["itemknn"]):
        assert {"hr@10", "ndcg@10", "coverage", "diversity", "recs_per_s"} <= set(figures)
        assert 0.0 <= figures["ndcg@10"] <= figures["hr@10"] <= 1.0
    assert report["users"] == 150 and report["items"] == 100 and report["trials"]
    # the walk is predictable: the core finds the next item, popularity cannot
    assert report["ndcg@10"] > 2 * report["baselines"]["popular"]["ndcg@10"]
    assert report["ndcg@10"] > report["baselines"]["itemknn"]["ndcg@10"]
    assert bench.hits_and_ndcg(np.array([[3, 1], [2, 5]]), [1, 9]) == (
        0.5,
        pytest.approx(0.315, abs=1e-3),
    )


def test_benchmark_converts_and_skips(bench: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,5,4,2\n1,6,4,1\n")
    out = tmp_path / "seqs.txt"
    assert bench.main(["--data", str(tmp_path), "--convert-sequences", str(out)]) == 0
    assert out.read_text() == "1 6 5\n"
    assert bench.main(["--data", str(tmp_path / "absent")]) == 2


def test_public_names() -> None:
    import confidante.tools.recommend as recommend

    assert sorted(recommend.__all__) == [
        "Catalog",
        "CatalogItem",
        "CatalogLoad",
        "CoreParams",
        "InteractionLog",
        "RankingCore",
        "Recommendation",
        "Recommender",
        "load_movielens",
        "load_sequences",
        "read_catalog_file",
        "recommend_tools",
    ]
    assert all(hasattr(recommend, name) for name in recommend.__all__)
