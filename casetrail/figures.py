"""Figures on the command line: the ``--json PATH`` option every measuring command takes.

The convention: a command that measures something (a benchmark, an evaluation,
a report) prints its figures and, given ``--json PATH``, also writes them to PATH
as JSON. A command that shows one record and measures nothing (``casetrail
lineage``, ``casetrail drafter draft``) writes no figures file; there ``--json``
is a flag that prints the record as JSON instead, and its help says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

JSON_HELP = "also write the figures to PATH as JSON"


def json_option(help: str = JSON_HELP) -> Any:
    """The ``--json PATH`` option (a typer parameter default)."""
    return typer.Option(None, "--json", metavar="PATH", dir_okay=False, help=help)


def print_figures(figures: dict, width: int = 32) -> None:
    """One ``name value`` line per figure (nested values as JSON)."""
    for key, value in figures.items():
        typer.echo(f"{key:{width}} {json.dumps(value) if isinstance(value, (dict, list)) else value}")


def write_figures(path: Optional[Path], figures: Any) -> None:
    """Write ``figures`` to ``path`` as JSON (nothing without a path); says where on stderr."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    typer.echo(f"figures written to {path}", err=True)
