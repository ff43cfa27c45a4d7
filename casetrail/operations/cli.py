"""``casetrail deadletter ...``: what an operator does with dead letters."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import typer

app = typer.Typer(help="Dead letters: list them, replay them once their cause is fixed, expire their keys.",
                  no_args_is_help=True)


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


@app.command("list")
def list_command(
    reason: Optional[str] = typer.Option(None, "--reason", help="reason code (default: all)"),
    since: Optional[str] = typer.Option(None, "--since", help="ISO time (default: all)"),
) -> None:
    """One line per dead letter: id, reason, source, and its original as the key store opens it
    (size, or "erased" once the key is destroyed). Never prints the original bytes."""
    from casetrail.operations.deadletter_originals import OriginalState, open_original
    from casetrail.operations.deadletter_replay import select
    from casetrail.operations.deadletter_topic import dead_letters
    from casetrail.privacy.keystore import default_keystore

    keystore = default_keystore()
    for letter in dead_letters(purpose="list"):
        if not select(letter, reason, since=_since(since)):
            continue
        original = open_original(letter, keystore)
        shown = {OriginalState.opened: lambda: f"sealed, {len(original.value)} bytes",
                 OriginalState.raw: lambda: f"raw (v1), {len(original.value)} bytes",
                 OriginalState.erased: lambda: f"erased at {original.erased_at}",
                 OriginalState.absent: lambda: "no value"}[original.state]()
        typer.echo(f"{letter.event_id}  {letter.occurred_at.isoformat(timespec='seconds')}  {letter.reason_code:22} "
                   f"{letter.source_topic}:{letter.source_partition}:{letter.source_offset}  tenant={letter.tenant or '-'}  "
                   f"original: {shown}")


@app.command("expire-keys")
def expire_keys_command(
    older_than_days: int = typer.Option(365, "--older-than-days", min=1,
                                        help="the dead-letter topic's retention (deadletter.v1: 365 days)"),
) -> None:
    """Destroy the keys of dead letters whose customer was not known, once the dead letters are past the
    retention (run it daily, e.g. as a CronJob); customers' keys are never touched here."""
    from casetrail.privacy.keystore import default_keystore

    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=older_than_days)
    expired = default_keystore().expire_record_keys(cutoff)
    typer.echo(f"record keys created before {cutoff.isoformat(timespec='seconds')} destroyed: {expired}")


def register(commands) -> None:
    commands.merge("deadletter", app)
