"""``casetrail bench review``: console page render figures (not shipped in the image)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option


def bench(
    cases: int = typer.Option(10_000, "--cases", help="open cases in the projection"),
    requests: int = typer.Option(400, help="timed requests per page kind"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Queue and case page render time (p50/p95/p99 over HTTP on loopback) with N open cases."""
    from casetrail_tools.benchmarks.machine import print_bench
    from services.review.offline.bench import run_bench

    result = run_bench(cases=cases, requests=requests, echo=typer.echo)
    print_bench({"goal": "queue and case pages fast with 10,000 open cases", **result}, json_path)


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.group("bench").command("review")(bench)
