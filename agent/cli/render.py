"""Rich rendering of a turn: what was recalled, the reply, what was remembered, tool steps."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from confidante.agent import TurnResult


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
    if result.recalled:
        console.print("  [dim]recalled:[/dim]")
        for item in result.recalled:
            console.print(f"  [dim]  {item['score']:.2f}  {escape(item['text'])}[/dim]")
    else:
        console.print("  [dim]recalled: nothing[/dim]")
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
