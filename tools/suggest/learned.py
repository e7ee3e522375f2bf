"""The learned ranker: two small logistic models, fitted offline, shipped as coefficients.

A next query is either one of the session's again (a results page, a query typed anew) or
something else: a query the user typed in earlier sessions, a habit after the latest query, an
edit. The two behave differently, so each has its own model over its own features
(:data:`~confidante.tools.suggest.features.SESSION_FEATURES` and
:data:`~confidante.tools.suggest.features.NEW_FEATURES`): the probability that the candidate is
the next query, from a standardised logistic regression. The two probabilities are put on one
list after multiplying the second by ``boost`` (chosen by cross-validation over users: the
pointwise models underrate how much a user's strong habit outweighs searching again).

:func:`fit_scorer` fits one (scikit-learn, imported only there); at run time scoring is a
matrix product in numpy. The shipped model (``ranker_model.json``, :func:`shipped_scorer`) was
fitted by ``benchmarks/train_query_suggestion.py`` on the ``tune`` half of the AOL dev users
only; the file says so (``trained_on``).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from confidante.errors import InvalidInputError
from confidante.tools.suggest.features import NEW_FEATURES, SESSION_FEATURES

__all__ = ["LearnedScorer", "LogisticPart", "TrainingRow", "fit_scorer", "shipped_scorer"]

#: The shipped model, beside this module.
SHIPPED = "ranker_model.json"


@dataclass(frozen=True)
class LogisticPart:
    """A standardised logistic regression over named features.

    Attributes:
        features: The names of the features it reads, in order.
        mean: Their means on the training rows (standardisation).
        scale: Their standard deviations there (1 where constant).
        coef: One coefficient per feature (on standardised values).
        intercept: The intercept.
    """

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def __post_init__(self) -> None:
        sizes = {len(self.features), len(self.mean), len(self.scale), len(self.coef)}
        if len(sizes) != 1:
            raise InvalidInputError("a logistic part needs one mean, scale and coef per feature")

    def probabilities(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray[Any, Any]:
        """The probability of each row (a missing feature counts as 0)."""
        if not rows:
            return np.zeros(0)
        values = np.array([_values(row, self.features) for row in rows])
        logits = ((values - self.mean) / self.scale) @ np.asarray(self.coef) + self.intercept
        probabilities: np.ndarray[Any, Any] = 1.0 / (1.0 + np.exp(-logits))
        return probabilities


def _values(row: Mapping[str, float], names: tuple[str, ...]) -> tuple[float, ...]:
    """The row's values of ``names`` in order (a missing one counts as 0)."""
    try:
        if len(names) > 1:
            return tuple(itemgetter(*names)(row))
        return tuple(row[name] for name in names)
    except KeyError:
        return tuple(row.get(name, 0.0) for name in names)


@dataclass(frozen=True)
class LearnedScorer:
    """Scores candidates with :class:`LogisticPart` models (see the module docstring).

    Attributes:
        again: The model of the candidates the session already has.
        new: The model of every other candidate.
        boost: What the second model's probabilities are multiplied by.
        trained_on: What the model was fitted on (data, users, figures), for the record.
    """

    again: LogisticPart
    new: LogisticPart
    boost: float = 1.0
    trained_on: dict[str, Any] = field(default_factory=dict)

    def score(
        self, candidates: Mapping[str, Mapping[str, float]], session: Collection[str]
    ) -> dict[str, float]:
        """Return each candidate's score (higher ranks first).

        Args:
            candidates: Each candidate query with its features.
            session: The session's (normalised) queries.
        """
        again = [query for query in candidates if query in session]
        other = [query for query in candidates if query not in session]
        scores = dict(
            zip(again, self.again.probabilities([candidates[q] for q in again]), strict=True)
        )
        new = self.new.probabilities([candidates[q] for q in other]) * self.boost
        scores.update(zip(other, new, strict=True))
        return {query: float(value) for query, value in scores.items()}

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form that :meth:`from_dict` reads."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnedScorer:
        """Read a scorer written by :meth:`to_dict`."""
        try:
            parts = {
                name: LogisticPart(
                    features=tuple(data[name]["features"]),
                    mean=tuple(float(v) for v in data[name]["mean"]),
                    scale=tuple(float(v) for v in data[name]["scale"]),
                    coef=tuple(float(v) for v in data[name]["coef"]),
                    intercept=float(data[name]["intercept"]),
                )
                for name in ("again", "new")
            }
            return cls(
                **parts, boost=float(data["boost"]), trained_on=dict(data.get("trained_on", {}))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a learned ranker: {exc}") from exc

    def save(self, path: Path) -> None:
        """Write the scorer as JSON."""
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LearnedScorer:
        """Read a scorer from a JSON file written by :meth:`save`."""
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


@cache
def shipped_scorer() -> LearnedScorer:
    """The model shipped with the package (read once per process)."""
    text = resources.files("confidante.tools.suggest").joinpath(SHIPPED).read_text("utf-8")
    return LearnedScorer.from_dict(json.loads(text))


@dataclass(frozen=True)
class TrainingRow:
    """One candidate of one training target.

    Attributes:
        features: Its features (:func:`~confidante.tools.suggest.features.learned_features`).
        in_session: The session already has it (the ``again`` model learns it).
        hit: It is the query the user typed next.
    """

    features: Mapping[str, float]
    in_session: bool
    hit: bool


def _fit_part(rows: Sequence[TrainingRow], names: Sequence[str], strength: float) -> LogisticPart:
    from sklearn.linear_model import LogisticRegression

    values = np.array([[row.features.get(name, 0.0) for name in names] for row in rows])
    labels = np.array([row.hit for row in rows])
    if len(set(labels.tolist())) < 2:
        raise InvalidInputError("the training rows need hits and misses of both kinds")
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=strength, max_iter=3000).fit((values - mean) / scale, labels)
    return LogisticPart(
        tuple(names),
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in model.coef_[0]),
        float(model.intercept_[0]),
    )


def fit_scorer(
    rows: Iterable[TrainingRow],
    *,
    boost: float = 1.0,
    strength: float = 0.1,
    trained_on: Mapping[str, Any] | None = None,
) -> LearnedScorer:
    """Fit both models on training rows (every candidate of every training target).

    Args:
        rows: The candidates, each with its features, whether the session had it and whether
            it was the next query.
        boost: See :class:`LearnedScorer`.
        strength: Inverse L2 regularisation of both logistic regressions.
        trained_on: What to record about the training data.

    Raises:
        InvalidInputError: A model would have only hits or only misses to learn from.
    """
    listed = list(rows)
    return LearnedScorer(
        again=_fit_part([r for r in listed if r.in_session], SESSION_FEATURES, strength),
        new=_fit_part([r for r in listed if not r.in_session], NEW_FEATURES, strength),
        boost=boost,
        trained_on=dict(trained_on or {}),
    )
