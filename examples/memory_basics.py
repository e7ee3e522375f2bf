"""The personal memory on its own: remember, retrieve, edit in real time, forget.

python examples/memory_basics.py [DATABASE_PATH]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from confidante import Memory

path = sys.argv[1] if len(sys.argv) > 1 else str(Path(tempfile.mkdtemp()) / "memory.db")
memory = Memory.open(path)

home = memory.remember("ana", "Ana lives in Lisbon.", key="home_city", provenance=["chat:1"])
memory.remember("ana", "Ana's dog is called Biscuit.", key="dog_name", breed="beagle")
memory.remember("bob", "Bob's dog is called Rex.", key="dog_name")

for hit in memory.retrieve("ana", "What's my dog's name?", k=2):
    print(f"{hit.score:.2f}  {hit.text}  {hit.attributes}")

# A new value for a stable slot supersedes the old one; the history is kept.
memory.remember("ana", "Ana lives in Porto.", key="home_city")
print("now:", [hit.text for hit in memory.retrieve("ana", "Where does Ana live?", k=1)])
print("history:", [(entry["action"], entry["before"]) for entry in memory.history("ana", home)])

# Bob never sees Ana's memories, and Ana can be erased entirely.
print("bob:", [hit.text for hit in memory.retrieve("bob", "Biscuit")])
print("erased:", memory.forget_user("ana"))
memory.close()
