"""``casetrail gate --candidate VERSION``: evaluate a candidate against production; promote or refuse.

Exit codes: 0 promoted, 1 refused (the report names the categories and
locales that got worse), 2 the gate could not run. The verdict is recorded
in the promotions file and published as ``VersionGateDecided`` on
``versions.gate.v1`` (the lineage).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, write_figures


def gate(
    candidate: str = typer.Option(..., "--candidate", help="the candidate version's name (a knowledge base is served "
                                  "under it: publish it with `casetrail kb publish DIR --version NAME`)"),
    tenant: str = typer.Option("acme-shop", "--tenant"),
    kind: str = typer.Option("knowledge_base", "--kind", help="knowledge_base | intent_model"),
    source: Optional[Path] = typer.Option(None, "--source", help="the candidate's folder (default: "
                                          "<data_dir>/candidates/<tenant>/<kind>/<VERSION>)"),
    examples: Optional[Path] = typer.Option(None, "--examples", help="agents' examples (JSONL from `casetrail review "
                                            "examples export`); default: read from the review store"),
    dev: Path = typer.Option(Path("evaluation/dev"), "--dev", help="the project's dev set (one JSONL per locale)"),
    dev_limit: int = typer.Option(0, "--dev-limit", help="first N dev tickets per locale (0: all)"),
    at: Optional[str] = typer.Option(None, "--at", help="ISO-8601 clock (default: the tenant's next business hours)"),
    json_path: Optional[Path] = json_option("also write the verdict (the VersionGateDecided event) to PATH as JSON"),
    publish: bool = typer.Option(True, "--publish/--no-publish", help="publish the verdict on versions.gate.v1"),
    requested_by: str = typer.Option("gate", "--requested-by"),
) -> None:
    """Promote a candidate intent model or knowledge base only if its error rate beats the rolling baseline."""
    from casetrail.promotions import PromotedVersions
    from casetrail.settings import REPO_ROOT, settings
    from casetrail_tools.gate.run import GateError, VersionSpec, read_examples, run_gate
    from casetrail_tools.gate.verdict import report_lines

    config = settings()
    registry = PromotedVersions()
    current = registry.promoted(tenant, kind)
    if current is not None:
        production = VersionSpec(kind, current["version"], Path(current["source"]))
    elif kind == "knowledge_base":
        production = VersionSpec(kind, "repository", REPO_ROOT / "knowledge" / tenant)
    else:
        from services.triage.triager import DEFAULT_INTENT_MODEL

        production = VersionSpec(kind, "repository", Path(DEFAULT_INTENT_MODEL))
    candidate_spec = VersionSpec(kind, candidate, source or config.data_dir / "candidates" / tenant / kind / candidate)
    if not candidate_spec.source.exists():
        typer.secho(f"candidate {candidate}: no such folder {candidate_spec.source}", fg="red", err=True)
        raise typer.Exit(2)
    rows = _agent_examples(examples, tenant)
    agent_count = len(rows)
    from casetrail.policy.tenant import load_policies

    policy = load_policies(config.tenants_dir)[tenant]
    dev_files = [dev / f"{locale}.jsonl" for locale in policy.locales if (dev / f"{locale}.jsonl").exists()]
    rows += read_examples(dev_files, dev_limit)
    typer.echo(f"evaluation set: {agent_count} agents' examples + {len(rows) - agent_count} dev-set tickets", err=True)
    moment = dt.datetime.fromisoformat(at) if at else None
    try:
        verdict = run_gate(production, candidate_spec, rows, tenant, tenants_dir=config.tenants_dir,
                           knowledge_dir=REPO_ROOT / "knowledge", at=moment,
                           progress=lambda line: typer.echo(line, err=True))
    except GateError as exc:
        typer.secho(f"gate: {exc}", fg="red", err=True)
        raise typer.Exit(2)
    for line in report_lines(verdict, candidate, production.version):
        typer.echo(line)
    outcome = "promoted" if verdict.promoted else "refused"
    registry.record(tenant, kind, version=candidate, source=str(candidate_spec.source), outcome=outcome,
                    error_rate=verdict.candidate_error_rate)
    event = _event(verdict, tenant, kind, candidate, production.version, requested_by)
    write_figures(json_path, event.model_dump(mode="json"))
    if publish:
        _publish(event)
    raise typer.Exit(0 if verdict.promoted else 1)


def _agent_examples(path: Optional[Path], tenant: str) -> list[dict]:
    if path is not None:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    from casetrail.settings import settings

    store_path = settings().data_dir / "review" / "review.sqlite3"
    if not store_path.exists():
        return []
    from casetrail.privacy.keystore import default_keystore
    from services.review.evaluation_set import export_examples
    from services.review.store import ReviewStore

    rows, _ = export_examples(ReviewStore(store_path), default_keystore(), tenant)
    return rows


def _event(verdict, tenant: str, kind: str, candidate: str, production: str, requested_by: str):
    from casetrail import __version__
    from casetrail.events import GateCell, GateOutcome, ProducerInfo, VersionGateDecided

    return VersionGateDecided(
        producer=ProducerInfo(service="gate", version=__version__), tenant=tenant, kind=kind, candidate=candidate,
        production=production, outcome=GateOutcome.promoted if verdict.promoted else GateOutcome.refused,
        examples=verdict.examples, agent_examples=verdict.agent_examples,
        production_error_rate=round(verdict.production_error_rate, 6),
        candidate_error_rate=round(verdict.candidate_error_rate, 6),
        baseline_error_rate=round(verdict.baseline_error_rate, 6),
        worse=[GateCell(slice=c.slice, examples=c.examples, production_error_rate=round(c.production_rate, 6),
                        candidate_error_rate=round(c.candidate_rate, 6)) for c in verdict.worse],
        requested_by=requested_by,
    )


def _publish(event) -> None:
    from casetrail.codec import AvroCodec
    from casetrail.settings import settings
    from casetrail.topic_admin import resolved_name
    from casetrail.topics import GATE_DECISIONS
    from services.audit.erasure import publish

    config = settings()
    topic = resolved_name(GATE_DECISIONS, config.topic_prefix)
    publish(topic, f"{event.tenant}:{event.kind}", AvroCodec(config.schema_registry_url, config.registry_config())
            .encode(event, topic=topic))


def register(commands) -> None:
    commands.root.command("gate")(gate)
