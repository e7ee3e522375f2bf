"""Recommendation: catalog, interactions, multi-interest and collaborative ranking, feedback.

The public face:

- :class:`Recommender` (``arecommend``/``recommend``, ``afeedback``, ``ainteract``,
  ``aimport_log``) over a :class:`~confidante.memory.store.Memory`;
- :class:`Catalog`, :class:`CatalogItem`, :class:`CatalogLoad` (what a load did) and
  :func:`read_catalog_file` for the items;
- :class:`RankingCore` and :class:`CoreParams`, the ranking model the benchmark measures;
- :func:`load_movielens`, :func:`load_sequences` for interaction logs;
- :func:`recommend_tools` for the graph.
"""

from confidante.tools.recommend.catalog import (
    Catalog,
    CatalogItem,
    CatalogLoad,
    read_catalog_file,
)
from confidante.tools.recommend.core import CoreParams, RankingCore
from confidante.tools.recommend.data import InteractionLog, load_movielens, load_sequences
from confidante.tools.recommend.service import Recommendation, Recommender
from confidante.tools.recommend.tools import recommend_tools

__all__ = [
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
