"""``casetrail delivery check --tenant T``: call each configured platform's "who am I" endpoint."""

from __future__ import annotations

import asyncio
from typing import Optional

import typer

app = typer.Typer(help="Delivery: write decisions back to Zendesk, Intercom, Freshdesk, ServiceNow and e-mail.",
                  no_args_is_help=True)


@app.command("check")
def check(tenant: str = typer.Option(..., help="the tenant whose platforms to check"),
          platform: Optional[str] = typer.Option(None, help="only this platform")) -> None:
    """Validate the tenant's delivery configuration and credentials, then ask each platform who we are."""
    from services.delivery.adapters import make_adapter
    from services.delivery.config import DeliveryConfigError, config_dir, load_all
    from services.delivery.privacy import open_sealed

    try:
        tenants = load_all()
    except DeliveryConfigError as exc:
        typer.echo(f"configuration refused: {exc}", err=True)
        raise typer.Exit(2) from None
    delivery = tenants.get(tenant)
    if delivery is None:
        typer.echo(f"no delivery configuration for tenant {tenant!r} in {config_dir()}", err=True)
        raise typer.Exit(2)

    async def ask(name, config) -> tuple[str, bool, str]:
        adapter = make_adapter(config, open_sealed=open_sealed)
        try:
            return name, True, await adapter.whoami()
        except Exception as exc:  # report what fails, per platform, and go on
            status = getattr(exc, "status", None)
            return name, False, f"{type(exc).__name__}{f' (status {status})' if status else ''}: {exc}"
        finally:
            await adapter.close()

    async def ask_all():
        chosen = {n: c for n, c in delivery.platforms.items() if platform in (None, n)}
        return await asyncio.gather(*(ask(n, c) for n, c in chosen.items()))

    results = asyncio.run(ask_all())
    for name, ok, detail in results:
        typer.echo(f"{name:11} {'ok  ' if ok else 'FAIL'} {detail}")
    if not results:
        typer.echo("no platform configured", err=True)
    if not results or not all(ok for _, ok, _ in results):
        raise typer.Exit(1)


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.merge("delivery", app)
