"""``casetrail eval``: the whole decision chain over labelled tickets (decisions), triage alone (triage),
the fit of the drafter's answer confidence (calibrate),
and whether sent replies answer, from people's readings (readings)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, write_figures
from casetrail_tools.benchmarks.machine import print_bench

eval_app = typer.Typer(help="Evaluations of the whole decision chain.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@eval_app.command("decisions")
def eval_decisions(
    tickets: Path = typer.Option(..., "--tickets", exists=True, dir_okay=False, help="JSON Lines, one ticket a line"),
    tenant: str = typer.Option(..., "--tenant", help="tenant whose policy and knowledge base decide"),
    at: Optional[str] = typer.Option(None, "--at", help="ISO-8601 moment of every ticket (default: the middle "
                                                         "of the tenant's next business-hours interval)"),
    json_path: Optional[Path] = json_option("also write every decision and the summary to PATH as JSON"),
    tenants_dir: Optional[Path] = typer.Option(None, help="tenant policies (default: CASETRAIL_TENANTS_DIR)"),
    knowledge_dir: Optional[Path] = typer.Option(None, help="knowledge-base sources, one folder per tenant "
                                                            "(default: knowledge/)"),
    categories: bool = typer.Option(True, help="also print the per-category table"),
) -> None:
    """The whole pure chain (normalise, triage, draft, verify, route; no broker) over a ticket file, at a fixed clock."""
    import contextlib
    import datetime as dt

    from casetrail.settings import REPO_ROOT, settings
    from casetrail_tools.decision_eval.chain import ChainError
    from casetrail_tools.decision_eval.report import render
    from casetrail_tools.decision_eval.runner import run_evaluation
    from casetrail_tools.decision_eval.tickets import TicketFileError, read_tickets

    try:
        parsed = read_tickets(tickets)
        moment = dt.datetime.fromisoformat(at) if at else None
    except TicketFileError as exc:
        _fail(str(exc), 2)
    except ValueError as exc:
        _fail(f"--at: {exc}", 2)
    if moment is not None and moment.tzinfo is None:
        _fail("--at needs a time zone (e.g. 2026-12-07T11:00:00+02:00 or ...Z)", 2)

    @contextlib.contextmanager
    def bar(total: int):
        with typer.progressbar(length=total, label="deciding", file=sys.stderr) as progress:
            yield progress.update

    echo = lambda line: typer.echo(line, err=True)  # noqa: E731 - progress goes to stderr
    try:
        report = run_evaluation(parsed, tenant, at=moment, tenants_dir=tenants_dir or settings().tenants_dir,
                                knowledge_dir=knowledge_dir or REPO_ROOT / "knowledge", progress=echo,
                                advance_factory=bar)
    except ChainError as exc:
        _fail(str(exc), 2)
    report.pop("_decisions")
    render(report["summary"], typer.echo, categories=categories)
    write_figures(json_path, report)


@eval_app.command("triage")
def eval_triage(
    dev: list[Path] = typer.Option([Path("evaluation/dev")], "--dev", exists=True,
                                   help="ticket files or folders of *.jsonl (repeatable)"),
    tenant: str = typer.Option("acme-shop", "--tenant"),
    intent_model: Optional[Path] = typer.Option(None, "--intent-model", help="default: the shipped model"),
    sentiment_model: Optional[Path] = typer.Option(None, "--sentiment-model", help="default: the shipped model"),
    json_path: Optional[Path] = json_option("also write the figures and each ticket's outcome to PATH as JSON"),
    categories: bool = typer.Option(True, help="also print the per-category tables"),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="embedding cache (default var/triage/embeddings)"),
    calibrate_into: Optional[Path] = typer.Option(
        None, "--calibrate-into", help="fit the intent model's temperature and out-of-scope threshold on the TUNE "
                                       "half, write the recalibrated artefact here and report with it"),
) -> None:
    """Ingest + triage (no draft, no broker) over labelled tickets; figures per locale and category, for the
    TUNE (odd ids) and CHECK (even ids) halves apart."""
    import contextlib

    from casetrail.embeddings import default_embedder
    from casetrail.policy.tenant import load_policies
    from casetrail.settings import settings
    from casetrail_tools.decision_eval.tickets import TicketFileError
    from casetrail_tools.triage_eval.figures import render, summarise
    from casetrail_tools.triage_eval.inputs import CachingEmbedder, read_ticket_files, triage_tickets
    from services.ingest.locale_detection import LocaleDetector
    from services.ingest.normalise import Normaliser
    from services.triage.intent_model import IntentModel
    from services.triage.sentiment import SentimentModel
    from services.triage.triager import DEFAULT_INTENT_MODEL, DEFAULT_SENTIMENT_MODEL, Triager

    try:
        tickets = read_ticket_files(dev)
    except TicketFileError as exc:
        _fail(str(exc), 2)
    policies = load_policies(settings().tenants_dir)
    if tenant not in policies:
        _fail(f"no policy for tenant {tenant!r}", 2)
    policy = policies[tenant]
    embedder = CachingEmbedder(default_embedder(), cache_dir or Path(settings().data_dir) / "triage" / "embeddings")
    triager = Triager(embedder, IntentModel.load(intent_model or DEFAULT_INTENT_MODEL),
                      SentimentModel.load(sentiment_model or DEFAULT_SENTIMENT_MODEL))
    detector = LocaleDetector()
    detector.warm_up()
    normaliser = Normaliser(locale_detector=detector, default_locales={tenant: policy.default_locale})

    @contextlib.contextmanager
    def bar(total: int):
        with typer.progressbar(length=total, label="triaging", file=sys.stderr) as progress:
            yield progress.update

    with bar(len(tickets)) as advance:
        items = triage_tickets(tickets, triager, policy, normaliser, advance=advance)
    calibration = None
    if calibrate_into is not None:
        from casetrail_tools.triage_eval.calibration import calibrate

        model, calibration = calibrate(triager.intent_model, items)
        model.save(calibrate_into)
        typer.echo(f"calibrated on the TUNE half: {json.dumps(calibration)}; wrote {calibrate_into}")
        triager = Triager(embedder, IntentModel.load(calibrate_into), triager.sentiment_model)
        with bar(len(tickets)) as advance:
            items = triage_tickets(tickets, triager, policy, normaliser, advance=advance)
    report = {"versions": {"triage": triager.model_version, "policy": policy.fingerprint},
              "calibration": calibration, "halves": summarise(items, policy)}
    typer.echo(f"model {triager.model_version}; policy {policy.fingerprint}; {len(items)} tickets")
    render(report["halves"], typer.echo, categories=categories)
    if json_path is not None:
        report["tickets"] = [
            {"id": i.ticket.id, "half": i.half, "locale": i.locale, "locale_status": i.locale_status,
             "expected": i.ticket.expected.category, "category": i.result.category if i.result else None,
             "confidence": i.result.intent_confidence if i.result else None,
             "out_of_scope": i.result.out_of_scope if i.result else None,
             "sentiment": i.result.sentiment if i.result else None,
             "alternatives": [[a.intent, a.confidence] for a in i.result.alternatives] if i.result else []}
            for i in items]
    write_figures(json_path, report)


@eval_app.command("calibrate")
def eval_calibrate(
    tickets: list[Path] = typer.Option([], "--tickets", help="labelled tickets (default: every evaluation/dev file)"),
    tenant: str = typer.Option("acme-shop", "--tenant"),
    out: Path = typer.Option(Path("services/drafter/models/answer-confidence.json"), "--out",
                             help="where the drafter's answer-confidence model is written"),
    judged: list[Path] = typer.Option([], "--judged", exists=True, dir_okay=False, help="readings of sent replies "
                                      "labelling the drafts they read (default: every evaluation/judged file)"),
    json_path: Optional[Path] = json_option("also write the fit and its check to PATH as JSON"),
) -> None:
    """Fit the drafter's answer confidence on the dev set's tune half (odd ids); check it on the other half."""
    import datetime as dt

    from casetrail.settings import REPO_ROOT, settings
    from casetrail_tools.decision_eval.calibrate import calibrate, judged_files
    from casetrail_tools.decision_eval.chain import build_chain
    from casetrail_tools.decision_eval.tickets import read_tickets

    files = tickets or sorted((REPO_ROOT / "evaluation" / "dev").glob("*.jsonl"))
    parsed = [ticket for path in files for ticket in read_tickets(path)]
    chain, scratch = build_chain(tenant, tenants_dir=settings().tenants_dir, knowledge_dir=REPO_ROOT / "knowledge",
                                 progress=lambda line: typer.echo(line, err=True))
    at = dt.datetime(2026, 12, 7, 11, tzinfo=dt.timezone.utc)  # retrieval does not depend on the clock
    try:
        with typer.progressbar(length=len(parsed), label="retrieving", file=sys.stderr) as bar:
            result = calibrate(chain, parsed, at, out, bar.update, judged=judged or judged_files())
    finally:
        scratch.cleanup()
    print_bench(result, json_path)


@eval_app.command("readings")
def eval_readings(
    decisions: Path = typer.Option(..., "--decisions", exists=True, dir_okay=False,
                                   help="the JSON written by `casetrail eval decisions --json`"),
    tickets: list[Path] = typer.Option([], "--tickets", exists=True, help="the labelled tickets of that run "
                                       "(files or folders of *.jsonl; default: evaluation/dev)"),
    judged: list[Path] = typer.Option([], "--judged", exists=True, dir_okay=False, help="readings of sent replies "
                                      "(repeatable; a later file wins; default: every evaluation/judged file)"),
    unread: Optional[Path] = typer.Option(None, "--unread", dir_okay=False,
                                          help="write the sends nobody has read yet here, one JSON line each, "
                                               "in the judged files' format with 'answers' left to fill"),
    json_path: Optional[Path] = json_option("also write the figures to PATH as JSON"),
) -> None:
    """Whether a run's sent replies answer the question: its sends joined with people's readings
    (per half of the dev set and per locale; sends without a reading are counted apart)."""
    from casetrail.settings import REPO_ROOT
    from casetrail_tools.decision_eval.calibrate import judged_files, read_judged
    from casetrail_tools.decision_eval.readings import (ReadingsError, read_decisions, render, score_sends,
                                                        unread_rows)
    from casetrail_tools.decision_eval.tickets import TicketFileError
    from casetrail_tools.triage_eval.inputs import read_ticket_files

    try:
        rows = read_decisions(decisions)
        labelled = {t.id: t for t in read_ticket_files(tickets or [REPO_ROOT / "evaluation" / "dev"])}
        readings = read_judged(judged or judged_files())
    except (ReadingsError, TicketFileError, ValueError) as exc:
        _fail(str(exc), 2)
    report = score_sends(rows, readings, labelled)
    render(report, typer.echo)
    if unread is not None:
        unread.parent.mkdir(parents=True, exist_ok=True)
        unread.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n"
                                  for row in unread_rows(report, labelled)), encoding="utf-8")
        typer.echo(f"wrote {len(report.unread)} unread sends to {unread}")
    write_figures(json_path, report.as_dict())
