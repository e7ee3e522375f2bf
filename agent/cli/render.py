"""Rich rendering of turns: recalled memories, tool steps, approvals, reply, what was learned."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape

from confidante.agent import Agent, Approval, TurnResult

#: Asked when a tool call needs approval: returns ``{"decision": ..., "args": ...}``.
Decider = Callable[[Approval], dict[str, Any]]


def print_turn(
    console: Console,
    text: str,
    result: TurnResult,
    *,
    show_user: bool = True,
    show_reply: bool = True,
) -> None:
    """Print one turn (or the part of it that ran before a pause for approval)."""
    if show_user:
        console.print(f"[bold green]you>[/bold green] {escape(text)}")
        print_items(console, "recalled", result.recalled)
    for step, outcome in zip(result.plan, result.results, strict=False):
        status = "[green]ok[/green]" if outcome["ok"] else "[red]failed[/red]"
        console.print(
            f"  [yellow]tool[/yellow] {step['tool']}({escape(str(step.get('arguments')))})"
            f" {status}: {escape(outcome['output'])}"
        )
    for approval in result.approvals:
        print_approval(console, approval)
    if show_reply and not result.approvals:
        console.print(f"[bold magenta]confidante>[/bold magenta] {escape(result.reply)}")
    for item in result.remembered:
        key = f" \\[{item['key']}]" if item.get("key") else ""
        console.print(f"  [cyan]remembered[/cyan]{key} {escape(item['text'])}")


def print_approval(console: Console, approval: Approval) -> None:
    """Show a tool call that waits for approval."""
    args = json.dumps(approval.args, ensure_ascii=False)
    console.print(f"  [bold yellow]approval needed[/bold yellow] {approval.tool} {escape(args)}")


def print_event(details: Console, event: dict[str, Any]) -> None:
    """Show one memory or tool event of the stream."""
    name = event.get("event")
    if name == "recalled":
        print_items(details, "recalled", event["items"])
    elif name == "tool":
        status = "[green]ok[/green]" if event["ok"] else "[red]failed[/red]"
        decision = f" ({event['decision']})" if event.get("decision") else ""
        details.print(
            f"  [yellow]tool[/yellow] {event['tool']}{decision} {status}: {escape(event['output'])}"
        )
    elif name == "planned":
        steps = ", ".join(step["tool"] for step in event["steps"])
        details.print(f"  [yellow]plan[/yellow] {escape(steps)}")
    elif name in {"remembered", "forgotten"}:
        for item in event["items"]:
            key = f" \\[{item['key']}]" if item.get("key") else ""
            details.print(f"  [cyan]{name}[/cyan]{key} {escape(item['text'])}")


async def stream_turn(
    agent: Agent,
    text: str,
    details: Console | None,
    on_reply: Callable[[str], None],
    *,
    decide: Decider | None = None,
    on_token: Callable[[str], None] | None = None,
) -> None:
    """Run one turn, showing memory events, tool steps and reply tokens live.

    Args:
        agent: The agent.
        text: The user's message.
        details: Where recalled/remembered memories, node progress and tool steps go
            (None: nowhere).
        on_reply: Called with the reply when the ``respond`` node finishes, before the
            ``remember`` node extracts facts.
        decide: Asked for each tool call that needs approval; without it the call is
            rejected.
        on_token: Called with each piece of the reply as the model writes it.
    """
    resume: dict[str, Any] | None = None
    while True:
        approvals: list[Approval] = []
        stream = (
            agent.astream(text, resume=resume) if resume is None else agent.astream(resume=resume)
        )
        async for kind, data in stream:
            if kind == "token" and on_token is not None:
                on_token(data["text"])
            elif kind == "approval":
                approvals.append(data)
            elif kind == "updates" and "respond" in data:
                on_reply(data["respond"]["reply"])
            elif kind == "custom" and details is not None:
                print_event(details, data)
        if not approvals:
            return
        if details is not None:
            print_approval(details, approvals[0])
        resume = decide(approvals[0]) if decide is not None else {"decision": "reject"}


def print_items(console: Console, label: str, items: list[dict[str, Any]]) -> None:
    """Print recalled memories with their scores."""
    if not items:
        console.print(f"  [dim]{label}: nothing[/dim]")
        return
    console.print(f"  [dim]{label}:[/dim]")
    for item in items:
        console.print(f"  [dim]  {item['score']:.2f}  {escape(item['text'])}[/dim]")


def parse_decision(answer: str, approval: Approval) -> dict[str, Any] | None:
    """Read a typed decision: ``a``/``approve``, ``r``/``reject``, or ``e``/``edit {json}``.

    Returns None when the answer is not a decision (or its JSON is not an object).
    """
    word, _, rest = answer.strip().partition(" ")
    word = word.lower()
    if word in {"a", "approve", "y", "yes"}:
        return {"decision": "approve"}
    if word in {"r", "reject", "n", "no"}:
        return {"decision": "reject"}
    if word in {"e", "edit"}:
        try:
            args = json.loads(rest) if rest.strip() else None
        except json.JSONDecodeError:
            return None
        if isinstance(args, dict):
            return {"decision": "edit", "args": {**approval.args, **args}}
    return None


def ask_decision(console: Console, approval: Approval) -> dict[str, Any]:
    """Ask on the terminal until the user approves, edits or rejects the call."""
    while True:
        answer = console.input(
            "  [bold yellow]approve / edit / reject?[/bold yellow] "
            '[dim](a | e {"arg": "new value"} | r)[/dim] '
        )
        if answer.strip().lower() in {"e", "edit"}:
            current = json.dumps(approval.args, ensure_ascii=False)
            answer = "edit " + console.input(f"  new arguments (JSON, now {escape(current)}): ")
        decision = parse_decision(answer, approval)
        if decision is not None:
            return decision
        console.print("  [red]please answer a, r, or e followed by a JSON object[/red]")


class LiveReply:
    """Print the reply on a terminal as its tokens arrive (or whole, if none streamed)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.streamed = False

    def token(self, text: str) -> None:
        """Show one piece of the reply."""
        if not self.streamed:
            self.console.print("[bold magenta]confidante>[/bold magenta] ", end="")
            self.streamed = True
        self.console.print(escape(text), end="", soft_wrap=True)

    def done(self, reply: str) -> None:
        """End the reply's line (printing the reply if no token was shown)."""
        if self.streamed:
            self.console.print()
        else:
            self.console.print(f"[bold magenta]confidante>[/bold magenta] {escape(reply)}")
        self.streamed = False
