"""``casetrail audit ...``, ``casetrail lineage`` and ``casetrail bench audit``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, write_figures

app = typer.Typer(help="Audit: decision lineage store, integrity, erasure, compliance reports.", no_args_is_help=True)


def _store(url: Optional[str] = None, bulk: bool = False):
    from services.audit.store import AuditStore

    store = AuditStore(url, bulk=bulk)
    store.migrate()
    return store


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command()
def migrate(db: Optional[str] = typer.Option(None, help="database URL (default: CASETRAIL_AUDIT_DB_URL or var/audit/audit.sqlite)")) -> None:
    """Create or upgrade the audit store's schema."""
    store = _store(db)
    typer.echo(f"audit store at schema revision {store.schema_revision()} ({store.dialect})")


@app.command()
def rebuild(
    db: Optional[str] = typer.Option(None, help="database URL"),
    workers: int = typer.Option(1, help="decoding processes (0: decode in this process)"),
    prefix: Optional[str] = typer.Option(None, help="topic prefix (default: CASETRAIL_TOPIC_PREFIX)"),
) -> None:
    """Drop the store and replay every event topic from the beginning; prints the digest."""
    from services.audit.consumer import topic_names
    from services.audit.replay import replay
    from services.audit.store import AuditStore

    store = AuditStore(db, bulk=True)
    typer.echo(f"dropping the audit store ({store.dialect}) and replaying the log")
    store.drop()
    store.migrate()
    stats = replay(store, topic_names(prefix), workers=workers, progress=typer.echo)
    rate = stats.records / stats.seconds if stats.seconds else 0.0
    typer.echo(f"replayed {stats.records} records ({stats.stored} stored, skipped {stats.skipped or 'none'}),"
               f" {stats.chains} chains in {stats.seconds:.1f}s = {rate:,.0f} records/s")
    typer.echo(f"digest {store.digest()}")


@app.command()
def digest(db: Optional[str] = typer.Option(None, help="database URL")) -> None:
    """SHA-256 over the whole store: equal digests mean identical stores."""
    store = _store(db)
    counts = store.counts()
    typer.echo(f"{store.digest()}  ({counts['events']} events, {counts['chains']} chains,"
               f" {counts['conversations']} conversations)")


@app.command()
def verify(db: Optional[str] = typer.Option(None, help="database URL")) -> None:
    """Recompute every hash chain and summary; exit 1 and name each changed record."""
    from services.audit import metrics

    from casetrail.progress import ProgressLines

    store = _store(db)
    counts = store.counts()
    problems = store.verify(progress=ProgressLines("verified", counts["chains"], unit="chains"))
    metrics.VERIFY_PROBLEMS.set(len(problems))
    if not problems:
        typer.echo(f"ok: {counts['events']} records in {counts['chains']} chains verified")
        return
    for p in problems:
        typer.echo(f"TAMPERED chain={p.chain_key} seq={p.seq} event={p.event_id}: {p.problem}")
    raise typer.Exit(1)


@app.command()
def erase(
    tenant: str = typer.Option(..., help="tenant of the customer"),
    customer: str = typer.Option(..., help="customer id as the source system knows it"),
    by: str = typer.Option(..., help="who requested the erasure (recorded in the audited event)"),
    reason: str = typer.Option("", help="e.g. GDPR Art. 17 request reference"),
    db: Optional[str] = typer.Option(None, help="database URL"),
    prefix: Optional[str] = typer.Option(None, help="topic prefix"),
) -> None:
    """Crypto-shred a customer: destroy their key, emit PersonalDataErased, scrub the store."""
    from services.audit.erasure import erase_customer

    event = erase_customer(tenant, customer, by, reason, store=_store(db), prefix=prefix)
    typer.echo(f"erased: key {event.key_id} destroyed; event {event.event_id} published; store scrubbed")


@app.command()
def report(
    period: str = typer.Option(..., help="2026, 2026-Q4, 2026-11, 2026-W45, 2026-11-02 or 2026-11-01..2026-11-15"),
    tenant: Optional[str] = typer.Option(None, help="one tenant (default: all)"),
    out: Optional[Path] = typer.Option(None, help="write the Markdown report to this file instead of stdout"),
    json_path: Optional[Path] = json_option("also write the report's figures to PATH as JSON"),
    db: Optional[str] = typer.Option(None, help="database URL"),
) -> None:
    """Compliance report of a period: citation trail, automation, accuracy, verifier, SLA, deflection."""
    from services.audit.records import iso_utc
    from services.audit.reports import build_report, citation_checker, parse_period, render_markdown

    try:
        since, until, label = parse_period(period)
    except ValueError as exc:
        _fail(str(exc))
    store = _store(db)
    result = build_report(store.summaries(tenant, iso_utc(since), iso_utc(until)), since=since, until=until,
                          period=label, tenant=tenant, citation_check=citation_checker(store, tenant))
    text = render_markdown(result)
    if out:
        out.write_text(text + "\n")
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text)
    write_figures(json_path, result)


@app.command()
def retention(
    apply: bool = typer.Option(False, "--apply", help="delete expired chains (default: only count them)"),
    db: Optional[str] = typer.Option(None, help="database URL"),
) -> None:
    """Apply the retention per tenant (audit config; default 7 years) to the store."""
    from services.audit.config import load_config

    config = load_config()
    store = _store(db)
    if not apply:
        typer.echo(f"default retention {config.retention.default}; per tenant {config.retention.tenants or 'none'}."
                   " Run with --apply to delete expired chains.")
        return
    removed = store.purge_expired(config.retention.for_tenant)
    typer.echo(f"removed {removed} expired chains")


@app.command()
def token(
    tenant: str = typer.Option(...), role: str = typer.Option(..., help="auditor or qa"),
    name: str = typer.Option(..., help="who holds it, e.g. acme-auditor"),
) -> None:
    """Make a new API token: prints it once, and the config entry (hash only) to add."""
    from services.audit.config import new_token

    if role not in ("auditor", "qa"):
        _fail("--role must be auditor or qa")
    plain, digest_hex = new_token()
    typer.echo(f"token (shown once): {plain}")
    typer.echo("config entry:")
    typer.echo(f"  - {{name: {name}, tenant: {tenant}, role: {role}, sha256: \"{digest_hex}\"}}")


@app.command()
def serve(
    host: Optional[str] = typer.Option(None), port: Optional[int] = typer.Option(None),
    db: Optional[str] = typer.Option(None, help="database URL"),
) -> None:
    """Serve the query API only (``casetrail run audit`` runs the consumer too)."""
    from services.audit.server import http_server, query_api
    from services.audit.settings import AuditSettings

    config = AuditSettings()
    http_server(query_api(_store(db), config), config, host=host, port=port, log_level="info").run()


def lineage(
    conversation_id: str = typer.Argument(..., help="the conversation to trace"),
    as_json: bool = typer.Option(False, "--json", help="print the lineage as JSON to stdout (this command writes no figures)"),
    original: bool = typer.Option(False, "--original", help="decrypt the original text (needs the key store)"),
    db: Optional[str] = typer.Option(None, help="database URL"),
) -> None:
    """Print the decision lineage of one conversation, from the audit store."""
    from services.audit.api import present
    from services.audit.lineage import render_text

    store = _store(db)
    found = store.lineage(conversation_id)
    if found is None:
        _fail(f"no conversation {conversation_id!r} in the audit store ({store.url.split('?')[0]})", code=1)
    keystore = None
    if original:
        from casetrail.privacy.keystore import default_keystore

        keystore = default_keystore()
    view = present(found, "auditor", keystore) if original else found
    if as_json:
        typer.echo(json.dumps(view, indent=2, ensure_ascii=False))
        return
    typer.echo(render_text(view))
    if original:
        for step in view["steps"]:
            conv = step["record"].get("conversation") or {}
            if "original_text" in conv:
                status = conv["original_text"]
                typer.echo(f"original text: {status.get('text') if status['status'] == 'ok' else status['status']}")


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.merge("audit", app)
    commands.root.command("lineage")(lineage)
