"""``casetrail bench delivery``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, write_figures


def bench(
    records: int = typer.Option(2000, help="outbound replies for the per-core throughput run"),
    rate: float = typer.Option(20.0, help="conversations per second for the latency run (each: decision + reply)"),
    seconds: float = typer.Option(30.0, help="how long the latency run publishes"),
    skip_service: bool = typer.Option(False, "--skip-service", help="only the in-process throughput run"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Deliveries per second per core against the local fake platforms, and decision -> platform 2xx latency."""
    from casetrail_tools.benchmarks.machine import machine_facts
    from services.delivery.offline.benchmark import engine_throughput, service_latency

    print(f"throughput: {records} replies through the delivery engine to the fake Zendesk ...", flush=True)
    result = {"throughput": engine_throughput(records)}
    print(json.dumps(result["throughput"]), flush=True)
    if not skip_service:
        print(f"latency: the delivery service on the broker, {rate}/s for {seconds}s ...", flush=True)
        result["latency"] = service_latency(rate, seconds)
        print(json.dumps(result["latency"]), flush=True)
    result["machine"] = machine_facts()
    print(json.dumps(result, indent=2))
    write_figures(json_path, result)


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.group("bench").command("delivery")(bench)
