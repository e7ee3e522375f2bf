"""The common end of a benchmark: print its figures as a table and write them as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def report(result: dict[str, Any], title: str, json_path: Path | None, digits: int = 2) -> None:
    """Print ``result`` as a two-column table; write it to ``json_path`` when given."""
    table = Table("metric", "value", title=title)
    for key, value in result.items():
        table.add_row(key, f"{value:,.{digits}f}" if isinstance(value, float) else str(value))
    Console().print(table)
    if json_path:
        json_path.write_text(json.dumps(result, indent=2))


def print_table(headers: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    """Print rows under headers as a table (floats with three decimals)."""
    table = Table(*headers, title=title)
    for row in rows:
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    Console().print(table)
