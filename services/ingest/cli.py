"""``casetrail ingest ...``: the commands an operator runs where ingest runs."""

from __future__ import annotations

import typer

app = typer.Typer(help="Ingest: connectors, redaction, webhook bridge.", no_args_is_help=True)


@app.command("webhooks")
def webhooks(
    host: str = typer.Option("127.0.0.1", help="bind address"),
    port: int = typer.Option(8111, help="port"),
    tenant: str = typer.Option("default", envvar="CASETRAIL_DEFAULT_TENANT", help="tenant when a request names none"),
) -> None:
    """Run the webhook bridge: POST /webhooks/{source} -> intake topic (2xx after the broker's ack)."""
    from services.ingest.webhooks import serve

    typer.echo(f"webhook bridge on http://{host}:{port}/webhooks/{{source}}")
    serve(host, port, default_tenant=tenant)


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.merge("ingest", app)
