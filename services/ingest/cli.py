"""``casetrail ingest ...``: the commands an operator runs where ingest runs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option

app = typer.Typer(help="Ingest: connectors, redaction, webhook bridge.", no_args_is_help=True)


@app.command("webhooks")
def webhooks(
    host: str = typer.Option("127.0.0.1", help="bind address"),
    port: int = typer.Option(8111, help="port"),
    tenant: Optional[str] = typer.Option(None, help="tenant when a request names none (default: CASETRAIL_DEFAULT_TENANT)"),
) -> None:
    """Run the webhook bridge: POST /webhooks/{source} -> intake topic (2xx after the broker's ack)."""
    from services.ingest.webhooks import serve

    typer.echo(f"webhook bridge on http://{host}:{port}/webhooks/{{source}}")
    serve(host, port, default_tenant=tenant)


@app.command("check")
def check(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="payload files (JSON, or raw e-mail)"),
    source: str = typer.Option(..., "--source", help="zendesk, intercom, freshdesk, servicenow, email, generic"),
    tenant: str = typer.Option("default", "--tenant", help="tenant the payloads belong to"),
    json_path: Optional[Path] = json_option("also write the results as JSON here"),
) -> None:
    """Dry run, no broker: accepted / rejected (with the reason) / flagged, and the redacted messages."""
    import json

    from services.ingest.connectors import registry
    from services.ingest.dry_run import check_files

    if source.lower() not in registry():
        typer.echo(f"unknown source {source!r}; known sources: {', '.join(sorted(registry()))}", err=True)
        raise typer.Exit(2)
    report = check_files(files, source, tenant)
    for result in report["results"]:
        line = f"{result['outcome']:9} {result['file']}"
        if result["reason"]:
            line += f"  ({result['reason']})"
        typer.echo(line)
        for message in result["messages"]:
            typer.echo(f"    {message['role']:8} {message['text'][:160]!r}")
    if json_path is not None:
        json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if any(r["outcome"] == "rejected" for r in report["results"]):
        raise typer.Exit(1)


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.merge("ingest", app)
