"""``casetrail router ...`` commands and ``casetrail bench router``."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, print_figures, write_figures

app = typer.Typer(help="Router: modes, escalation rules, SLA timers, handoff briefs, idempotent sending.",
                  no_args_is_help=True)


def _read_to_end(spec, expected, timeout: float = 30.0) -> list:
    """Every decodable event of ``expected`` type on ``spec``'s topic, from the beginning to the current end."""
    import time

    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from casetrail.codec import AvroCodec, DecodeError
    from casetrail.settings import kafka_settings, settings
    from casetrail.topic_admin import resolved_name

    config = settings()
    codec = AvroCodec(config.schema_registry_url, config.registry_config())
    name = resolved_name(spec)
    consumer = Consumer({
        **kafka_settings().librdkafka_config(),
        "group.id": f"casetrail-router-export-{uuid.uuid4().hex[:8]}",
        "enable.auto.commit": False,
    })
    try:
        metadata = consumer.list_topics(name, timeout=timeout).topics.get(name)
        if metadata is None or metadata.error is not None:
            return []
        ends: dict[int, int] = {}
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(name, partition), timeout=timeout)
            if high > low:
                ends[partition] = high
        if not ends:
            return []
        consumer.assign([TopicPartition(name, p, OFFSET_BEGINNING) for p in ends])
        events, deadline = [], time.monotonic() + timeout
        while ends and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            try:
                events.append(codec.decode(message.value(), expected=expected))
            except DecodeError:
                pass  # not this event type (or undecodable): the dead-letter topic has the story
            if message.offset() + 1 >= ends.get(message.partition(), 0):
                ends.pop(message.partition(), None)
        return events
    finally:
        consumer.close()


@app.command("export-feedback")
def export_feedback(
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="JSONL file to write (default: stdout)"),
    tenant: Optional[str] = typer.Option(None, help="only this tenant"),
) -> None:
    """Agent feedback joined to the router's decisions, as labelled JSONL for the evaluation set.

    Reads feedback.agent and decisions.routed from the beginning to their current end (nothing is
    committed, nothing changes on the cluster). One row per approve / edit / reject.
    """
    from casetrail import topics
    from casetrail.events import AgentFeedback, RoutedDecision

    from services.router.feedback import labelled_examples

    typer.echo("reading decisions ...", err=True)
    decisions = _read_to_end(topics.DECISIONS_ROUTED, RoutedDecision)
    typer.echo(f"{len(decisions)} decisions; reading agent feedback ...", err=True)
    feedback = _read_to_end(topics.FEEDBACK_AGENT, AgentFeedback)
    if tenant:
        feedback = [f for f in feedback if f.tenant == tenant]
    rows = labelled_examples(decisions, feedback)
    stream = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    finally:
        if out:
            stream.close()
    typer.echo(f"exported {len(rows)} labelled examples"
               f" ({sum(1 for r in rows if not r['decision_found'])} without a matching decision)", err=True)


def bench(
    decisions: int = typer.Option(5000, help="routing decisions to time"),
    tenant_file: Path = typer.Option(Path("config/tenants/acme-shop.yaml"), help="tenant policy to route with"),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Routing decision latency (pure logic: rules, gate, queue, hours, brief, acknowledgement)."""
    from services.router.offline.benchmark import run_decision_benchmark

    from casetrail_tools.benchmarks.machine import machine_facts

    result = {**run_decision_benchmark(decisions, tenant_file), "machine": machine_facts()}
    print_figures(result, width=28)
    write_figures(json_path, result)


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.merge("router", app)
    commands.group("bench").command("router")(bench)
