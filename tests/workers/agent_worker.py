"""Run agent turns whose chat reply hangs, so the parent can SIGKILL the process mid-turn.

Settings come from ``CONFIDANTE_*`` variables. The scripted model answers by its rules,
except the chat reply (no structured output) of the message ``--hang-on``, which prints
``RESPONDING`` and then sleeps for a minute.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from confidante import Agent
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply


def main() -> int:
    """Run the turns given on the command line, in order."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--user", required=True)
    parser.add_argument("--hang-on", required=True)
    parser.add_argument("messages", nargs="+")
    args = parser.parse_args()

    def answer(payload: dict[str, Any]) -> Any:
        structured = payload.get("response_format")
        said = str(payload["messages"][-1].get("content") or "")
        if structured is None and said == args.hang_on:
            print("RESPONDING", flush=True)
            time.sleep(60)
        return default_reply(payload)

    agent = Agent(user_id=args.user, model=ScriptedChatModel(function=answer))
    for message in args.messages:
        print("REPLY", agent.chat(message), flush=True)
    agent.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
