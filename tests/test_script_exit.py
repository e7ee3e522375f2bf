"""Scripts that use Agent and Memory the documented way exit by themselves.

An Agent holds a checkpoint connection per event loop that ran it (aiosqlite: one worker thread
each). They used to outlive ``agent.close()`` and keep the interpreter alive after the script's
last line. Each script here runs in a subprocess with a timeout: a hang fails the test.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from confidante import Agent, Memory
from confidante.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
#: The comment that marks a README code block as a whole script to run.
RUNNABLE = "<!-- runnable:"
#: Importing the whole stack takes ~8 s on an idle machine; a hang is what this catches.
TIMEOUT_S = 180


def runnable_blocks() -> list[str]:
    """Return the README's Python blocks marked as runnable (the comment right above them)."""
    pattern = re.compile(rf"^{re.escape(RUNNABLE)}.*?-->\n```python\n(.*?)^```", re.M | re.S)
    return pattern.findall(README.read_text())


def run_script(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run Python code as a script; raise ``TimeoutExpired`` if it has not exited in time."""
    script = cwd / "script.py"
    script.write_text(code)
    return subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def test_the_readme_marks_its_python_quick_start_as_runnable() -> None:
    blocks = runnable_blocks()
    assert blocks, f"no Python block of README.md is marked {RUNNABLE!r}"
    assert any("Agent(" in block and "Memory.open(" in block for block in blocks)


@pytest.mark.parametrize("index", range(len(runnable_blocks())))
def test_readme_python_block_runs_and_exits(
    index: int, cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_script(runnable_blocks()[index], cli_env, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]


ASYNC_SCRIPT = """
import asyncio

from confidante import Agent, Memory

agent = Agent(user_id="ana")
agent.chat("My dog is called Biscuit.")  # the sync twins' background loop
print(asyncio.run(agent.achat("What is my dog called?")))  # a loop of its own, then ended
result = agent.turn("Remind me to take my dog to the vet on Friday.")
if result.approvals:
    agent.resume("approve")
agent.close()


async def main() -> None:
    agent = Agent(user_id="ana")
    agent.chat("My sister is called Marta.")  # a sync call inside async code
    print(await agent.achat("What is my sister called?"))
    memory = Memory.open()
    print([item.text for item in await memory.alist_items("ana")])
    memory.close()
    await agent.aclose()


asyncio.run(main())
"""


def test_a_script_with_asyncio_run_exits(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = run_script(ASYNC_SCRIPT, cli_env, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Biscuit" in result.stdout
    assert "Marta" in result.stdout


FORGETFUL_SCRIPT = """
import asyncio

from confidante import Agent, Memory

agent = Agent(user_id="ana")
agent.chat("My dog is called Biscuit.")
print(asyncio.run(agent.achat("What is my dog called?")))
agent.turn("My sister is called Marta.")  # never closed
"""


def test_a_script_that_never_closes_its_agent_exits(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_script(FORGETFUL_SCRIPT, cli_env, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Biscuit" in result.stdout


def checkpoint_threads() -> list[threading.Thread]:
    """The live aiosqlite worker threads (one per open checkpoint connection)."""
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]


def test_close_closes_the_connection_of_every_loop(settings: Settings) -> None:
    before = set(checkpoint_threads())
    agent = Agent(user_id="ana", settings=settings)
    agent.chat("My dog is called Biscuit.")  # the sync twins' background loop
    reply = asyncio.run(agent.achat("What is my dog called?"))  # a loop of its own
    assert "Biscuit" in reply
    assert len(set(checkpoint_threads()) - before) == 2
    agent.close()
    for thread in set(checkpoint_threads()) - before:
        thread.join(timeout=10)
    assert not set(checkpoint_threads()) - before


def test_an_ended_loops_connection_is_closed_when_another_loop_runs(settings: Settings) -> None:
    before = set(checkpoint_threads())
    agent = Agent(user_id="ana", settings=settings)
    asyncio.run(agent.achat("My dog is called Biscuit."))
    first = set(checkpoint_threads()) - before
    asyncio.run(agent.achat("What is my dog called?"))  # the first loop has ended
    for thread in first:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in first)
    agent.close()


def test_with_and_async_with_close_the_agent(settings: Settings) -> None:
    before = set(checkpoint_threads())
    with Agent(user_id="ana", settings=settings) as agent:
        agent.chat("My dog is called Biscuit.")

    async def chat() -> str:
        async with Agent(user_id="ana", settings=settings) as agent:
            return await agent.achat("What is my dog called?")

    assert "Biscuit" in asyncio.run(chat())
    for thread in set(checkpoint_threads()) - before:
        thread.join(timeout=10)
    assert not set(checkpoint_threads()) - before


def test_closing_disposes_only_a_memory_the_agent_opened(settings: Settings) -> None:
    given = Memory.open(settings=settings)
    pool = given.database.engine.pool  # dispose() replaces an engine's pool
    with Agent(user_id="ana", settings=settings, memory=given) as agent:
        agent.chat("My dog is called Biscuit.")
    assert given.database.engine.pool is pool
    given.close()

    agent = Agent(user_id="ana", settings=settings)
    pool = agent.memory.database.engine.pool
    agent.close()
    assert agent.memory.database.engine.pool is not pool
