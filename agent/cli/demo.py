"""``confidante demo``: a scripted multi-session conversation on the configured model.

Session 1 tells the assistant some facts, about Ana and about her sister (a subject of her
memory, with its relation); session 2 runs in a new process and asks about them; then facts
change in plain words (a move and a new diet supersede the old ones, history kept) and a
multi-step task runs with tools. Every reply is printed with the memories recalled for it.
"""

from __future__ import annotations

import subprocess
import sys
import time

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule

from confidante.settings import Settings

DEMO_USER = "demo-ana"

SESSION_1 = [
    "Hi! My name is Ana. My dog is called Biscuit and I live in Lisbon.",
    "My sister Marta lives in Berlin and works as a nurse.",
    "I'm vegetarian and I love hiking.",
]
SESSION_2 = ["What is my dog called?", "Where do I live?", "Where does my sister live?"]
EDIT = [
    "I left Lisbon last month, I live in Porto now.",
    "I'm vegan these days.",
    "Where do I live?",
]
TASK = ["Remind me to take my dog to the vet on Friday."]


def prepare_models(settings: Settings, console: Console) -> None:
    """Assemble/verify the local model file and load the embedder, reporting progress."""
    from confidante.memory.embeddings.text import build_embedder

    settings.ensure_dirs()
    if settings.model == "local":
        from confidante.models.local import LocalChatModel

        started = time.perf_counter()
        model = LocalChatModel.from_settings(settings, progress=True)
        model.load()
        console.print(
            f"local model ready: {model.model_path.name} ({time.perf_counter() - started:.1f} s)"
        )
    started = time.perf_counter()
    embedder = build_embedder(settings)
    console.print(f"embedder ready: {embedder.name} ({time.perf_counter() - started:.1f} s)")


def _session(settings: Settings, console: Console, title: str, messages: list[str]) -> None:
    from confidante.agent import Agent
    from confidante.cli.render import print_turn

    console.print(Rule(title))
    agent = Agent(user_id=DEMO_USER, settings=settings, session_id=title)
    for text in messages:
        started = time.perf_counter()
        result, show_user = agent.turn(text), True
        while result.approvals:  # a side-effecting tool asks first; the demo approves
            print_turn(console, text, result, show_user=show_user, show_reply=False)
            console.print("  [dim](the demo approves)[/dim]")
            result, show_user = agent.resume("approve"), False
        print_turn(console, text, result, show_user=show_user)
        console.print(f"  [dim]({time.perf_counter() - started:.1f} s)[/dim]")
    agent.close()


def _show_history(settings: Settings, console: Console) -> None:
    from confidante.memory.store import Memory

    memory = Memory.open(settings=settings)
    items = memory.list_items(DEMO_USER, include_history=True)
    subjects = {subject.id: subject for subject in memory.subjects(DEMO_USER)}
    console.print(Rule("memory after the changes (history kept)"))
    for subject in subjects.values():
        console.print(
            f"  subject: {escape(subject.name or '-')} ({escape(subject.relation or '-')})"
        )
    for item in items:
        state = "current " if item.valid_to is None else "replaced"
        about = subjects[item.subject_id].name if item.subject_id in subjects else "Ana"
        console.print(f"  {state} \\[{about}: {item.key or '-'}] {escape(item.text)}")
    memory.close()


def _run_part(settings: Settings, console: Console, part: str) -> None:
    if part == "learn":
        from confidante.agent import Agent

        Agent(user_id=DEMO_USER, settings=settings).forget_user()
        _session(settings, console, "session 1: getting to know Ana", SESSION_1)
    elif part == "recall":
        _session(settings, console, "session 2 (new process): what do you remember?", SESSION_2)
    elif part == "edit":
        _session(settings, console, "session 3: facts change, said in plain words", EDIT)
        _show_history(settings, console)
    elif part == "task":
        _session(settings, console, "session 4: a multi-step task with tools", TASK)
    else:
        raise ValueError(f"unknown demo part {part!r}")


def run_demo(settings: Settings, console: Console, part: str = "all") -> None:
    """Run the whole demo, or one part of it (used for the new-process session)."""
    if part != "all":
        _run_part(settings, console, part)
        return
    started = time.perf_counter()
    prepare_models(settings, console)
    _run_part(settings, console, "learn")
    command = [
        sys.executable,
        "-m",
        "confidante.cli",
        "demo",
        "--part",
        "recall",
        "--model",
        settings.model,
        "--data-dir",
        str(settings.data_dir),
    ]
    subprocess.run(command, check=True)
    _run_part(settings, console, "edit")
    _run_part(settings, console, "task")
    console.print(Rule(f"demo finished in {time.perf_counter() - started:.0f} s"))
