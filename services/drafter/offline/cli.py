"""``casetrail drafter ...`` and ``casetrail bench drafter``."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, write_figures

app = typer.Typer(help="Drafter: grounded replies with a citation on every statement.", no_args_is_help=True)

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE_KB = REPO_ROOT / "knowledge" / "acme-shop"


def _machine_line(facts: dict) -> str:
    return (f"{facts['cpu']}, {facts['cores']} cores, Python {facts['python']}, {facts['os']}, "
            f"load {facts['load_average_1_5_15']}")


def _triaged(text: str, locale: str, intent: str, embedding=None, model: Optional[str] = None, number: int = 0):
    from casetrail.events import (
        AuthorRole, Conversation, ConversationTriaged, CustomerContext, Message, ProducerInfo, TriageResult,
    )

    now = dt.datetime.now(dt.timezone.utc)
    conversation = Conversation(
        source="cli", external_id=f"cli-{number}", channel="email",
        messages=[Message(message_id="m1", author_role=AuthorRole.customer, sent_at=now, body_text=text)],
        customer=CustomerContext(customer_id="cli"), received_at=now,
    )
    triage = TriageResult(intent=intent, intent_confidence=0.9, category=intent, language=locale,
                          embedding_model=model, embedding=list(map(float, embedding)) if embedding is not None else [])
    return ConversationTriaged(conversation_id=f"cli-{number}", tenant="acme-shop", locale=locale,
                               producer=ProducerInfo(service="cli", version="0"), conversation=conversation, triage=triage)


def _local_drafter(kb_dir: Path, scratch: Path):
    """A drafter over a throw-away catalogue and in-memory Qdrant holding ``kb_dir``."""
    from casetrail.embeddings import default_embedder
    from casetrail.knowledge.catalogue import Catalogue
    from casetrail.knowledge.index import RetrievalIndex
    from casetrail.knowledge.publish import publish
    from casetrail.knowledge.store import KnowledgeBase
    from casetrail.policy.tenant import load_policies
    from casetrail.settings import settings
    from services.drafter.drafting import Drafter

    embedder = default_embedder()
    catalogue = Catalogue(scratch / "catalogue.sqlite3")
    publish(kb_dir, embedder=embedder, catalogue=catalogue, tenant="acme-shop", human_version="bench")
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=3600)
    return Drafter(knowledge, load_policies(settings().tenants_dir))


@app.command("draft")
def draft_command(
    text: str = typer.Argument(..., help="The customer's message."),
    locale: str = typer.Option("en"),
    intent: str = typer.Option("refund_policy", help="Triage intent (default taxonomy id)."),
    kb_dir: Path = typer.Option(SAMPLE_KB, help="KB folder to draft from (published into a scratch catalogue)."),
    as_json: bool = typer.Option(False, "--json", help="print the draft as JSON to stdout (this command writes no figures)"),
) -> None:
    """Draft one reply offline (no Kafka) and print it with its citations."""
    with tempfile.TemporaryDirectory(prefix="casetrail-draft-") as scratch:
        drafter = _local_drafter(kb_dir, Path(scratch))
        proposed = drafter.draft(_triaged(text, locale, intent))
        drafter.knowledge.close()
    draft = proposed.draft
    if as_json:
        typer.echo(json.dumps(draft.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    typer.echo(f"outcome: {draft.outcome.value}  confidence: {draft.confidence}  kb: {proposed.versions.knowledge_base}"
               + (f"  reason: {draft.reason}" if draft.reason else ""))
    typer.echo("")
    typer.echo(draft.reply_text)
    typer.echo("")
    for citation in draft.citations:
        typer.echo(f"  {citation.ref}  score {citation.score:.3f}  «{citation.sentence[:70]}»")


BENCH_QUESTIONS = SAMPLE_KB / "eval"


def bench(
    rounds: int = typer.Option(5, help="Passes over the question sets."),
    kb_dir: Path = typer.Option(SAMPLE_KB, help="KB with eval/<locale>.yaml questions used as conversations."),
    json_path: Optional[Path] = json_option(),
) -> None:
    """Draft latency without embedding (retrieval + composing), offline template composer."""
    from casetrail_tools.benchmarks.machine import machine_facts
    import yaml

    from casetrail.embeddings import default_embedder

    with tempfile.TemporaryDirectory(prefix="casetrail-bench-") as scratch:
        typer.echo("publishing the sample KB into a scratch catalogue...", err=True)
        drafter = _local_drafter(kb_dir, Path(scratch))
        embedder = default_embedder()
        conversations = []
        for path in sorted((kb_dir / "eval").glob("*.yaml")):
            questions = [q["q"] for q in yaml.safe_load(path.read_text(encoding="utf-8"))]
            vectors = embedder.embed(questions, kind="query")  # done before timing: triage's embedding is reused
            for i, (q, v) in enumerate(zip(questions, vectors)):
                conversations.append(_triaged(q, path.stem, "refund_policy", v, embedder.name, i))
        for event in conversations[:10]:  # warm-up: index build, lexical model, code paths
            drafter.draft(event)
        timings, outcomes = [], {}
        for round_index in range(rounds):
            typer.echo(f"round {round_index + 1}/{rounds}: {len(conversations)} drafts", err=True)
            for event in conversations:
                started = time.perf_counter()
                proposed = drafter.draft(event)
                timings.append((time.perf_counter() - started) * 1000)
                assert "query_embedding_reused" in proposed.draft.flags, "bench must not embed while timing"
                outcomes[proposed.draft.outcome.value] = outcomes.get(proposed.draft.outcome.value, 0) + 1
        drafter.knowledge.close()
    timings.sort()
    p = lambda q: timings[min(len(timings) - 1, int(q * len(timings)))]  # noqa: E731
    machine = machine_facts()
    typer.echo(f"machine: {_machine_line(machine)}")
    typer.echo(f"embedder (not timed): {embedder.name}; index: in-memory Qdrant; composer: template")
    typer.echo(f"drafts: {len(timings)} ({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))})")
    typer.echo(f"latency ms: p50 {p(0.5):.2f}  p95 {p(0.95):.2f}  p99 {p(0.99):.2f}  mean {statistics.mean(timings):.2f}  max {timings[-1]:.2f}")
    typer.echo(f"goal p50 <= 30 ms: {'met' if p(0.5) <= 30 else 'NOT met'}")
    write_figures(json_path, {
        "drafts": len(timings), "outcomes": dict(sorted(outcomes.items())), "embedder_not_timed": embedder.name,
        "p50_ms": round(p(0.5), 3), "p95_ms": round(p(0.95), 3), "p99_ms": round(p(0.99), 3),
        "mean_ms": round(statistics.mean(timings), 3), "max_ms": round(timings[-1], 3), "goal": "p50 <= 30 ms",
        "machine": machine,
    })


def register(commands) -> None:
    """The ``casetrail.commands`` entry point (see casetrail/cli.py)."""
    commands.merge("drafter", app)
    commands.group("bench").command("drafter")(bench)
