"""``casetrail review ...``: accounts, rebuilding the projection, exporting the evaluation set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

review_app = typer.Typer(help="The agent console: accounts, projection rebuild, evaluation examples.",
                         no_args_is_help=True)
account_app = typer.Typer(help="Local console accounts (argon2 hashes in the review configuration).",
                          no_args_is_help=True)
examples_app = typer.Typer(help="Agents' corrections as labelled evaluation examples.", no_args_is_help=True)
review_app.add_typer(account_app, name="account")
review_app.add_typer(examples_app, name="examples")


@account_app.command("add")
def account_add(
    username: str = typer.Argument(..., help="sign-in name"),
    tenant: str = typer.Option(..., "--tenant"),
    role: str = typer.Option("agent", "--role", help="agent | lead | auditor"),
    locale: str = typer.Option("en", "--locale", help="interface language: en de fr es lt"),
    password: Optional[str] = typer.Option(None, "--password", envvar="CASETRAIL_REVIEW_NEW_PASSWORD",
                                           help="default: asked for (never echoed)"),
    config_path: Optional[Path] = typer.Option(None, "--config", help="default: CASETRAIL_REVIEW_CONFIG"),
) -> None:
    """Add (or replace) a local account; only the argon2 hash is stored."""
    from services.review.auth import hash_password
    from services.review.config import ROLES, UI_LOCALES, Account, save_account
    from services.review.settings import ReviewSettings

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    if locale not in UI_LOCALES:
        raise typer.BadParameter(f"locale must be one of {', '.join(UI_LOCALES)}")
    secret = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(secret) < 10:
        raise typer.BadParameter("use at least 10 characters")
    path = config_path or ReviewSettings().review_config_path
    save_account(path, Account(username=username, tenant=tenant, role=role, locale=locale,
                               password_hash=hash_password(secret)))
    typer.echo(f"account {username} ({role}, {tenant}) written to {path}")


@review_app.command("rebuild")
def rebuild(store_path: Optional[Path] = typer.Option(None, "--store", help="default: <data_dir>/review/review.sqlite3")) -> None:
    """Drop the projection and fold it again from everything the topics hold (read whole, up to their end
    as it is now; no consumer group joined, nothing committed). Run it while the console is stopped."""
    from casetrail.codec import AvroCodec
    from casetrail.settings import settings
    from services.review.app import rebuild_from_topics
    from services.review.projection import Projector
    from services.review.store import ReviewStore

    config = settings()
    path = store_path or config.data_dir / "review" / "review.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    try:
        from casetrail.privacy.keystore import default_keystore

        keystore = default_keystore()
    except Exception:  # noqa: BLE001
        keystore = None
    projector = Projector(ReviewStore(path), AvroCodec(config.schema_registry_url, config.registry_config()), keystore)
    try:
        read = rebuild_from_topics(projector)
    except RuntimeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"read {read} records; store now holds {projector.store.counts()}")


@examples_app.command("export")
def examples_export(
    tenant: str = typer.Option(..., "--tenant"),
    out: Path = typer.Option(..., "--out", help="JSON Lines in the `casetrail eval decisions` ticket format"),
    locale: Optional[str] = typer.Option(None, "--locale"),
    store_path: Optional[Path] = typer.Option(None, "--store"),
) -> None:
    """The tenant's agent-labelled examples whose text can still be opened (erased customers are gone)."""
    from casetrail.privacy.keystore import default_keystore
    from services.review.evaluation_set import export_examples
    from services.review.store import ReviewStore

    store = ReviewStore(store_path) if store_path else ReviewStore()
    rows, skipped = export_examples(store, default_keystore(), tenant, locale)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    typer.echo(f"{len(rows)} examples written to {out}; {skipped} without readable text (erased) left out")


def register(commands) -> None:
    commands.merge("review", review_app)
