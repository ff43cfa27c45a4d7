"""``casetrail deadletter ...``: what an operator does with dead letters."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import typer

app = typer.Typer(help="Dead letters: replay them once their cause is fixed.", no_args_is_help=True)


def _since(value: Optional[str]) -> Optional[dt.datetime]:
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


@app.command("replay")
def replay_command(
    reason: Optional[str] = typer.Option(None, "--reason", help="reason code, e.g. retries_exhausted (default: all)"),
    since: Optional[str] = typer.Option(None, "--since", help="ISO time, e.g. 2026-01-31T08:00Z (default: all)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="count what would be replayed, produce nothing"),
) -> None:
    """Put dead-lettered records back on their source topics (original key, value, headers)."""
    from casetrail.operations.deadletter_replay import replay

    replay(reason, _since(since), dry_run=dry_run, progress=typer.echo)


def register(commands) -> None:
    commands.merge("deadletter", app)
