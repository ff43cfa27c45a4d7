"""``casetrail bench audit``: rebuild and query figures on a generated log (not shipped in the image)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def bench(
    events: int = typer.Option(1_000_000, "--events", help="events in the generated log"),
    workers: int = typer.Option(1, help="decoding processes for the rebuild (0: none)"),
    queries: int = typer.Option(2000, help="lineage queries to time"),
    keep_topic: bool = typer.Option(False, help="keep the benchmark topic afterwards"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write the figures here"),
) -> None:
    """Rebuild throughput and lineage-query latency on a generated log written to a real Kafka topic."""
    from services.audit.offline.bench import run_bench

    result = run_bench(events=events, workers=workers, queries=queries, keep_topic=keep_topic, echo=typer.echo)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result, indent=2))


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.group("bench").command("audit")(bench)
