"""Personalized contextual query suggestion over a per-user entity-centric knowledge store.

Following "Knowledge-Augmented Large Language Models for Personalized Contextual Query
Suggestion" (Baek et al., 2024): a user's searches, read titles and conversation topics are
kept in their memory (:class:`SuggestionStore`), aggregated into an entity-centric profile with
time decay and co-occurrence links (:class:`UserProfile`), and combined with a k-anonymous
global layer (:class:`GlobalLayer`) to rank the next queries of a session (:class:`Ranker`),
known ones and edits of the session's latest query made from the user's store or the global
layer (:mod:`~confidante.tools.suggest.generate`), scored by a learned ranker fitted offline
(:class:`LearnedScorer`; features in :mod:`~confidante.tools.suggest.features`), optionally
reranked by the chat model (:mod:`~confidante.tools.suggest.rerank`).
"""

from confidante.tools.suggest.global_layer import DEFAULT_MIN_USERS, GlobalLayer
from confidante.tools.suggest.learned import LearnedScorer
from confidante.tools.suggest.model_entities import aextract_entities
from confidante.tools.suggest.profile import Activity, UserProfile, split_sessions
from confidante.tools.suggest.ranker import Ranker, Suggestion, Weights
from confidante.tools.suggest.rerank import SuggestedQueries, scripted_rerank
from confidante.tools.suggest.store import ACTIVITY_KIND, SuggestionStore
from confidante.tools.suggest.text import extract_entities, normalise_query
from confidante.tools.suggest.tools import suggest_tools

__all__ = [
    "ACTIVITY_KIND",
    "DEFAULT_MIN_USERS",
    "Activity",
    "GlobalLayer",
    "LearnedScorer",
    "Ranker",
    "SuggestedQueries",
    "Suggestion",
    "SuggestionStore",
    "UserProfile",
    "Weights",
    "aextract_entities",
    "extract_entities",
    "normalise_query",
    "scripted_rerank",
    "split_sessions",
    "suggest_tools",
]
