"""Personalized query suggestion from a tiny made-up query log, offline and in a second.

python examples/suggest_queries.py [DATABASE_PATH]
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from confidante import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.tools.suggest import Activity, SuggestionStore, scripted_rerank

LOG = {  # user -> sessions of queries, one session a day
    "ana": [
        ["surf lisbon", "ericeira surf camp", "weather lisbon"],
        ["vegetarian restaurants lisbon", "surf lisbon", "ericeira surf camp"],
    ],
    "bob": [["weather lisbon", "lisbon tram 28"], ["python asyncio", "weather lisbon"]],
    "carol": [["weather lisbon", "lisbon tram 28", "pastel de nata recipe"]],
}

path = sys.argv[1] if len(sys.argv) > 1 else str(Path(tempfile.mkdtemp()) / "memory.db")
memory = Memory.open(path)
store = SuggestionStore(memory, min_users=2)  # the global layer keeps what 2+ users typed

start = datetime(2026, 3, 1, 9, 0)
for user, sessions in LOG.items():
    store.record(
        user,
        [
            Activity(query, start + timedelta(days=day, minutes=3 * step))
            for day, session in enumerate(sessions)
            for step, query in enumerate(session)
        ],
    )
store.record("ana", [Activity("Surfing in Ericeira: a beginner's guide", start, kind="click")])

print("ana's top entities:", store.profile("ana").top_entities(5))
for user in ("ana", "bob", "dave"):  # dave is new: cold start from the global layer
    print(f"\n{user} after 'lisbon':")
    for suggestion in store.suggest(user, ["lisbon"], k=4):
        print(f"  {suggestion.query:32} because of: {', '.join(suggestion.entities) or '-'}")

reranked = store.suggest("ana", ["lisbon"], k=3, model=ScriptedChatModel(function=scripted_rerank))
print("\nreranked by the (scripted) chat model:", [s.query for s in reranked])

print("ana's store is part of her export:", len(memory.export("ana")["items"]), "items")
memory.forget_user("ana")
print("after forget_user, ana's store:", store.profile("ana").queries)
memory.close()
