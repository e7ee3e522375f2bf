"""Move memories from mem0 into confidante, then out again in confidante's JSON format.

python examples/import_mem0.py [MEM0_EXPORT.json]

Without an argument it uses a small export in the shape mem0's ``Memory.get_all()`` returns.
The command-line equivalent: ``confidante memory import --user ana --format mem0 FILE``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from confidante import Memory
from confidante.integrations.mem0 import mem0_to_export

SAMPLE = {
    "results": [
        {
            "id": "5b1d0f7e-3c2a-4f5e-9a8b-1c2d3e4f5a6b",
            "memory": "Is a vegetarian who avoids mushrooms",
            "hash": "3f2a9c4b7d1e8f6a5b4c3d2e1f0a9b8c",
            "metadata": {"category": "food"},
            "created_at": "2025-03-02T08:15:00.000000-08:00",
            "updated_at": "2025-04-10T19:40:12.000000-07:00",
            "user_id": "ana",
        },
        {
            "id": "8e7d6c5b-4a39-4281-b0a9-f8e7d6c5b4a3",
            "memory": "Has a beagle named Biscuit",
            "hash": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "metadata": None,
            "created_at": "2025-05-20T12:00:00Z",
            "updated_at": None,
            "user_id": "ana",
        },
    ]
}

data = json.loads(Path(sys.argv[1]).read_text()) if len(sys.argv) > 1 else SAMPLE
folder = Path(tempfile.mkdtemp())
memory = Memory.open(folder / "memory.db")

ids = memory.import_("ana", mem0_to_export(data, source_user="ana"))
print(f"imported {len(ids)} mem0 memories")
for item in memory.list_items("ana"):
    print(f"  {item.created_at:%Y-%m-%d}  {item.text}  (from {item.provenance[0]})")
print("recall:", memory.retrieve("ana", "is she vegetarian?", k=1)[0].text)

# Out again: the documented confidante.memory JSON, readable by any confidante database.
export = memory.export("ana")
(folder / "ana.json").write_text(json.dumps(export, indent=2))
copy = Memory.open(folder / "copy.db")
copy.import_("ana", export, keep_ids=True)
print("round trip:", [item.id for item in copy.list_items("ana")] == ids)
memory.close()
copy.close()
