"""Talk to an assistant that remembers you, from Python.

Run it as it is (it uses the configured model, the embedded local one by default), or with
``CONFIDANTE_MODEL=scripted`` for an instant, deterministic run:

    CONFIDANTE_MODEL=scripted python examples/quickstart.py

Its data (memory, checkpoints) goes to a new temporary directory, never to your own data
directory; name a folder to keep it there: ``python examples/quickstart.py DATA_DIR``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from confidante import Agent, Settings

#: The example's data directory: the first argument, else a new temporary one.
DATA_DIR = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="confidante-"))
settings = Settings(data_dir=DATA_DIR, database_url=None)
agent = Agent(user_id="quickstart-user", settings=settings, session_id="monday")
print(agent.chat("My sister is called Marta and I work at the city library."))
agent.close()

# A new session (and it could be a new process): the facts come from memory, not the thread.
agent = Agent(user_id="quickstart-user", settings=settings, session_id="tuesday")
result = agent.turn("What is my sister called?")
print("recalled:", [item["text"] for item in result.recalled])
print("reply:", result.reply)
agent.forget_user()  # leave nothing behind
agent.close()
