"""``casetrail bench audit``: rebuild and query figures on a generated log (not shipped in the image)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, write_figures


def bench(
    events: int = typer.Option(1_000_000, "--events", help="events in the generated log"),
    workers: int = typer.Option(1, help="decoding processes for the rebuild (0: none)"),
    queries: int = typer.Option(2000, help="lineage queries to time"),
    keep_topic: bool = typer.Option(False, help="keep the benchmark topic afterwards"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Rebuild throughput and lineage-query latency on a generated log written to a real Kafka topic."""
    from services.audit.offline.bench import run_bench

    result = run_bench(events=events, workers=workers, queries=queries, keep_topic=keep_topic, echo=typer.echo)
    write_figures(json_path, result)


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.group("bench").command("audit")(bench)
