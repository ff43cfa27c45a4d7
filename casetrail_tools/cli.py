"""Development and operations tooling for the ``casetrail`` command.

Contributed to the production command line (``casetrail/cli.py``) through the
``casetrail.commands`` entry point: the local broker, running every service at
once, publishing and tailing records, schema generation and the foundation
benchmarks. None of it ships in the container image.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, print_figures, write_figures

app = typer.Typer(no_args_is_help=True)
broker_app = typer.Typer(help="The local Apache Kafka broker (KRaft) for development and tests.", no_args_is_help=True)
schemas_app = typer.Typer(help="Avro schemas generated from the event models.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks: print figures and the machine they ran on.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluations of the whole decision chain.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


# -- broker -----------------------------------------------------------------
@broker_app.command("start")
def broker_start() -> None:
    """Fetch the jars if needed, format storage once, start the broker and wait until it answers."""
    from casetrail_tools import broker

    try:
        broker.start(progress=typer.echo)
    except broker.BrokerError as exc:
        _fail(str(exc))


@broker_app.command("stop")
def broker_stop() -> None:
    """Stop the local broker (controlled shutdown)."""
    from casetrail_tools import broker

    broker.stop(progress=typer.echo)


@broker_app.command("status")
def broker_status() -> None:
    from casetrail_tools import broker

    typer.echo(broker.status())


# -- schemas ----------------------------------------------------------------
@schemas_app.command("generate")
def schemas_generate() -> None:
    """Write schemas/<Event>.avsc from the pydantic models (the one source)."""
    from casetrail.events.catalog import EVENT_TYPES, SCHEMAS_DIR, schema_text

    SCHEMAS_DIR.mkdir(exist_ok=True)
    for name in EVENT_TYPES:
        (SCHEMAS_DIR / f"{name}.avsc").write_text(schema_text(name))
    typer.echo(f"wrote {len(EVENT_TYPES)} schemas to {SCHEMAS_DIR}")


@schemas_app.command("release")
def schemas_release() -> None:
    """Snapshot every schema that changed since its last release as schemas/released/<Event>/v<N>.avsc,
    with a sample record written with it (v<N>.sample.bin) for the compatibility test."""
    from casetrail.codec import AvroCodec
    from casetrail.events.catalog import EVENT_TYPES, SCHEMAS_DIR, released_schemas, schema_of, schema_text

    codec = AvroCodec()

    for name in EVENT_TYPES:
        released = released_schemas(name)
        if released and released[-1][1] == schema_of(name):
            continue
        folder = SCHEMAS_DIR / "released" / name
        folder.mkdir(parents=True, exist_ok=True)
        version = len(released) + 1
        (folder / f"v{version}.avsc").write_text(schema_text(name))
        (folder / f"v{version}.sample.bin").write_bytes(codec.encode(EVENT_TYPES[name].fake()))
        typer.echo(f"released {name} v{version}")


# -- running services ---------------------------------------------------------
@app.command("up")
def up(
    services: Optional[list[str]] = typer.Argument(None, help="services to start (default: every installed one)"),
) -> None:
    """Run services as local processes with prefixed logs; Ctrl-C (or SIGTERM) stops them all cleanly."""
    from casetrail_tools.process_group import ProcessGroup

    from casetrail.cli import installed_services

    known = installed_services()
    chosen = services or known
    for name in chosen:
        if name not in known:
            _fail(f"unknown service {name!r}; choose from: {', '.join(known)}")
    group = ProcessGroup()
    for name in chosen:
        group.start(name, [sys.executable, "-m", "casetrail.cli", "run", name])
    code = group.wait_until_interrupted()
    raise typer.Exit(code)


# -- publishing and reading -----------------------------------------------------
@app.command("send")
def send(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL: {source, tenant?, payload, external_id?}"),
    tenant: str = typer.Option("acme-shop", help="tenant when a line names none"),
) -> None:
    """Publish a JSONL file of tickets to the intake topic as Avro IntakeTicket records."""
    from casetrail_tools.intake_publisher import publish_jsonl

    sent, rejected = publish_jsonl(path, default_tenant=tenant, progress=typer.echo)
    typer.echo(f"sent {sent} tickets to the intake topic; {len(rejected)} lines rejected")
    for line_no, reason in rejected:
        typer.secho(f"  line {line_no}: {reason}", fg=typer.colors.YELLOW, err=True)
    if rejected:
        raise typer.Exit(1)


@app.command("tail")
def tail(
    topic: str = typer.Argument(..., help="topic name from casetrail/topics.py (prefix is added)"),
    from_beginning: bool = typer.Option(False, "--from-beginning", help="start at the earliest offset"),
    limit: int = typer.Option(0, help="stop after N records (0: run until Ctrl-C)"),
    idle_timeout: float = typer.Option(0.0, help="stop after this many idle seconds (0: never)"),
) -> None:
    """Decode and print events (one JSON per line)."""
    from casetrail_tools.event_tail import tail_topic

    for line in tail_topic(topic, from_beginning=from_beginning, limit=limit, idle_timeout=idle_timeout):
        typer.echo(line)


# -- benchmarks ---------------------------------------------------------------
@bench_app.command("codec")
def bench_codec(
    events: int = typer.Option(50_000, help="events to encode and decode"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Avro encode+decode events/s for envelope-sized events, on one core."""
    from casetrail_tools.benchmarks.codec import run_codec_benchmark

    result = run_codec_benchmark(events, progress=lambda line: typer.echo(line, err=True))
    print_bench(result, json_path)


@bench_app.command("hop")
def bench_hop(
    events: int = typer.Option(20_000, help="events to pass through each hop"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """One-hop passthrough events/s: a Faust service vs a plain confluent-kafka loop, same broker."""
    from casetrail_tools.benchmarks.hop import run_hop_benchmark

    result = run_hop_benchmark(events, progress=typer.echo)
    print_bench(result, json_path)


@bench_app.command("pipeline")
def bench_pipeline(
    rate: float = typer.Option(50.0, help="tickets per second into the intake topic"),
    duration: float = typer.Option(300.0, help="seconds of load"),
    json_path: Optional[Path] = json_option(
        "write the figures to PATH as JSON, and the latency plot (extra 'plot') beside it as .png"
        " [default: docs/benchmarks/runs/pipeline-<rate>rps-<duration>s.json]"),
    plain: bool = typer.Option(True, help="also run the plain confluent-kafka chain for the ratio"),
) -> None:
    """All six services under load: intake -> routed latency, throughput, lost and duplicated outputs."""
    from casetrail_tools.benchmarks.pipeline import run_pipeline_benchmark

    json_path = json_path or Path("docs/benchmarks/runs") / f"pipeline-{int(rate)}rps-{int(duration)}s.json"
    result = run_pipeline_benchmark(rate, duration, plot=json_path.with_suffix(".png"), progress=typer.echo, plain=plain)
    print_bench(result, json_path)


@bench_app.command("decisions")
def bench_decisions(
    tickets: Path = typer.Option(Path("evaluation/dev/en.jsonl"), "--tickets", exists=True, dir_okay=False,
                                 help="JSON Lines tickets (the `casetrail eval decisions` format)"),
    tenant: str = typer.Option("acme-shop", "--tenant"),
    limit: int = typer.Option(0, help="first N tickets only (0: all)"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Per-ticket latency of the pure decision chain (ingest, triage, draft, verify, route) on one core."""
    import datetime as dt
    import os

    from casetrail.settings import REPO_ROOT, settings
    from casetrail_tools.decision_eval.chain import build_chain, next_business_moment
    from casetrail_tools.decision_eval.runner import evaluate, latency_figures
    from casetrail_tools.decision_eval.tickets import read_tickets

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal is stated
    parsed = read_tickets(tickets)[: limit or None]
    chain, scratch = build_chain(tenant, tenants_dir=settings().tenants_dir, knowledge_dir=REPO_ROOT / "knowledge",
                                 progress=lambda line: typer.echo(line, err=True))
    try:
        at = next_business_moment(chain.policy, dt.datetime.now(dt.timezone.utc))
        evaluate(parsed[:20], chain, at)  # warm caches and lazily built parts first
        with typer.progressbar(length=len(parsed), label="timing", file=sys.stderr) as bar:
            report = evaluate(parsed, chain, at, bar.update)
    finally:
        scratch.cleanup()
    figures = latency_figures(report["_decisions"])
    print_bench({"tickets": len(parsed), "file": str(tickets), "goal": "chain p50 <= 30 ms on one core",
                 **figures, "embedding_engine": _embedding_engine()}, json_path)


def _embedding_engine() -> str:
    from casetrail.embeddings import default_embedder

    embedder = default_embedder()
    return getattr(embedder, "engine", None) or embedder.name


def print_bench(result: dict, json_path: Optional[Path]) -> None:
    """Print a benchmark's figures with the machine they ran on; write them to ``json_path`` too."""
    from casetrail_tools.benchmarks.machine import machine_facts

    result = {**result, "machine": machine_facts()}
    print_figures(result)
    write_figures(json_path, result)


# -- evaluation ---------------------------------------------------------------
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
    out: Path = typer.Option(Path("services/drafter/models/answer-confidence.json"), "--out", help="model written"),
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


def register(commands) -> None:
    """Add the tooling to the ``casetrail`` command (the ``casetrail.commands`` entry point)."""
    commands.merge("broker", broker_app)
    commands.merge("schemas", schemas_app)
    commands.merge("bench", bench_app)
    commands.merge("eval", eval_app)
    commands.root.registered_commands.extend(app.registered_commands)
