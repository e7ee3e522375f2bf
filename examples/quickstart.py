"""Talk to an assistant that remembers you, from Python.

Run it as it is (it uses the configured model, the embedded local one by default), or with
``CONFIDANTE_MODEL=scripted`` for an instant, deterministic run:

    CONFIDANTE_MODEL=scripted python examples/quickstart.py
"""

from __future__ import annotations

from confidante import Agent

agent = Agent(user_id="quickstart-user", session_id="monday")
print(agent.chat("My sister is called Marta and I work at the city library."))
agent.close()

# A new session (and it could be a new process): the facts come from memory, not the thread.
agent = Agent(user_id="quickstart-user", session_id="tuesday")
result = agent.turn("What is my sister called?")
print("recalled:", [item["text"] for item in result.recalled])
print("reply:", result.reply)
agent.forget_user()  # leave nothing behind
agent.close()
