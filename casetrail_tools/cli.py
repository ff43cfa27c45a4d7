"""Development and operations tooling for the ``casetrail`` command.

Contributed to the production command line (``casetrail/cli.py``) through the
``casetrail.commands`` entry point: the local broker, running every service at
once, publishing and tailing records, schema generation and the foundation
benchmarks. None of it ships in the container image.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option
from casetrail_tools.benchmarks.machine import print_bench
from casetrail_tools.decision_eval.commands import eval_app

app = typer.Typer(no_args_is_help=True)
broker_app = typer.Typer(help="The local Apache Kafka broker (KRaft) for development and tests.", no_args_is_help=True)
schemas_app = typer.Typer(help="Avro schemas generated from the event models.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks: print figures and the machine they ran on.", no_args_is_help=True)


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


@bench_app.command("keystore")
def bench_keystore(
    seals: int = typer.Option(5_000, help="seals (and as many opens) per backend"),
    customers: int = typer.Option(500, help="distinct customers the seals cycle through"),
    postgres_url: Optional[str] = typer.Option(None, help="PostgreSQL to measure (default: a pgserver throw-away)"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Key store seal/open/erase latency on SQLite and PostgreSQL, one thread, wall clock."""
    from casetrail_tools.benchmarks.keystore import run_keystore_benchmark

    result = run_keystore_benchmark(seals, customers, postgres_url, progress=lambda line: typer.echo(line, err=True))
    print_bench(result, json_path)


@bench_app.command("hop")
def bench_hop(
    events: int = typer.Option(20_000, help="events to pass through each hop"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """One-hop passthrough events/s: a service on the casetrail runtime vs a plain confluent-kafka loop, same broker."""
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
    workers: int = typer.Option(1, min=1, help="worker processes per service (audit: always one)"),
    join: Optional[str] = typer.Option(None, help="start one more worker of this service halfway through the load"
                                       " (a pod joining a running cluster) and report the minute after it is ready"),
    keep_topics: bool = typer.Option(False, "--keep-topics", help="keep the topics the run created under its own prefix"
                                     " (deleted once the figures are taken, by default)"),
) -> None:
    """All six services under load: intake -> routed latency, throughput, lost and duplicated outputs."""
    from casetrail_tools.benchmarks.pipeline import NotJoinable, check_joinable, run_pipeline_benchmark

    try:
        check_joinable(join)  # before any broker or service starts
    except NotJoinable as exc:
        _fail(str(exc), code=2)
    stem = (f"pipeline-{int(rate)}rps-{int(duration)}s" + (f"-{workers}workers" if workers > 1 else "")
            + (f"-join-{join}" if join else ""))
    json_path = json_path or Path("docs/benchmarks/runs") / f"{stem}.json"
    result = run_pipeline_benchmark(rate, duration, plot=json_path.with_suffix(".png"), progress=typer.echo, plain=plain,
                                    workers=workers, join=join, keep_topics=keep_topics)
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


def register(commands) -> None:
    """Add the tooling to the ``casetrail`` command (the ``casetrail.commands`` entry point)."""
    commands.merge("broker", broker_app)
    commands.merge("schemas", schemas_app)
    commands.merge("bench", bench_app)
    commands.merge("eval", eval_app)
    commands.root.registered_commands.extend(app.registered_commands)
