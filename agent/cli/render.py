"""Rich rendering of turns: what was recalled, tool steps, the reply, what was remembered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape

from confidante.agent import Agent, TurnResult


def print_turn(
    console: Console,
    text: str,
    result: TurnResult,
    *,
    show_user: bool = True,
    show_reply: bool = True,
) -> None:
    """Print one turn."""
    if show_user:
        console.print(f"[bold green]you>[/bold green] {escape(text)}")
    print_items(console, "recalled", result.recalled)
    for step, outcome in zip(result.plan, result.results, strict=False):
        status = "[green]ok[/green]" if outcome["ok"] else "[red]failed[/red]"
        console.print(
            f"  [yellow]tool[/yellow] {step['tool']}({escape(str(step.get('arguments')))})"
            f" {status}: {escape(outcome['output'])}"
        )
    if show_reply:
        console.print(f"[bold magenta]confidante>[/bold magenta] {escape(result.reply)}")
    for item in result.remembered:
        console.print(f"  [cyan]remembered[/cyan] \\[{item['key']}] {escape(item['text'])}")


async def stream_turn(
    agent: Agent,
    text: str,
    details: Console | None,
    on_reply: Callable[[str], None],
) -> None:
    """Run one turn, showing memory events and tool steps live and the reply as soon as it exists.

    Args:
        agent: The agent.
        text: The user's message.
        details: Where recalled/remembered memories and tool steps go (None: nowhere).
        on_reply: Called with the reply when the ``respond`` node finishes, before the
            ``remember`` node extracts facts.
    """
    async for mode, chunk in agent.astream(text):
        if mode == "updates" and "respond" in chunk:
            on_reply(chunk["respond"]["reply"])
        if mode != "custom" or details is None:
            continue
        event = chunk.get("event")
        if event == "recalled":
            print_items(details, "recalled", chunk["items"])
        elif event == "tool":
            status = "[green]ok[/green]" if chunk["ok"] else "[red]failed[/red]"
            details.print(
                f"  [yellow]tool[/yellow] {chunk['tool']} {status}: {escape(chunk['output'])}"
            )
        elif event == "remembered":
            for item in chunk["items"]:
                details.print(f"  [cyan]remembered[/cyan] \\[{item['key']}] {escape(item['text'])}")


def print_items(console: Console, label: str, items: list[dict[str, Any]]) -> None:
    """Print recalled memories with their scores."""
    if not items:
        console.print(f"  [dim]{label}: nothing[/dim]")
        return
    console.print(f"  [dim]{label}:[/dim]")
    for item in items:
        console.print(f"  [dim]  {item['score']:.2f}  {escape(item['text'])}[/dim]")
