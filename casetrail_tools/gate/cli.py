"""``casetrail gate --candidate VERSION``: evaluate a candidate against production; promote or refuse.

Exit codes: 0 promoted, 1 refused (the report names the categories and
locales that got worse), 2 the gate could not run. The verdict is recorded
in the promotions file (with the dev-set measurement the rolling baseline is
made of, see ``baseline``) and published as ``VersionGateDecided`` on
``versions.gate.v1`` (the lineage). ``casetrail gate history --tenant T``
shows a tenant's verdicts and the rolling baseline the next candidate faces.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Optional

import typer

from casetrail.figures import json_option, write_figures


gate_app = typer.Typer(help="Promote a candidate version only if it beats production and the rolling baseline.")


@gate_app.callback(invoke_without_command=True)
def gate(
    ctx: typer.Context,
    candidate: Optional[str] = typer.Option(None, "--candidate", help="the candidate version's name (a knowledge base is served "
                                  "under it: publish it with `casetrail kb publish DIR --version NAME`)"),
    tenant: str = typer.Option("acme-shop", "--tenant"),
    kind: str = typer.Option("knowledge_base", "--kind", help="knowledge_base | intent_model | template"),
    source: Optional[Path] = typer.Option(None, "--source", help="the candidate's folder, or a template's YAML "
                                          "file (default: <data_dir>/candidates/<tenant>/<kind>/<VERSION>)"),
    examples: Optional[Path] = typer.Option(None, "--examples", help="agents' examples (JSONL from `casetrail review "
                                            "examples export`); default: read from the review store"),
    dev: Path = typer.Option(Path("evaluation/dev"), "--dev", help="the project's dev set (one JSONL per locale)"),
    dev_limit: int = typer.Option(0, "--dev-limit", help="first N dev tickets per locale (0: all)"),
    at: Optional[str] = typer.Option(None, "--at", help="ISO-8601 clock (default: the tenant's next business hours)"),
    json_path: Optional[Path] = json_option("also write the verdict (the VersionGateDecided event) to PATH as JSON"),
    publish: bool = typer.Option(True, "--publish/--no-publish", help="publish the verdict on versions.gate.v1"),
    requested_by: str = typer.Option("gate", "--requested-by"),
) -> None:
    """Promote a candidate intent model, knowledge base or reply-template set only if its error rate beats the
    rolling baseline."""
    if ctx.invoked_subcommand is not None:
        return
    if not candidate:
        typer.secho("gate: --candidate VERSION is required (or a command: history)", fg="red", err=True)
        raise typer.Exit(2)
    from casetrail.promotions import PromotedVersions
    from casetrail.settings import REPO_ROOT, settings
    from casetrail_tools.gate.run import GateError, VersionSpec, dev_set, run_gate
    from casetrail_tools.gate.verdict import report_lines

    config = settings()
    registry = PromotedVersions()
    current = registry.promoted(tenant, kind)
    if current is not None:
        production = VersionSpec(kind, current["version"], Path(current["source"]))
    elif kind == "knowledge_base":
        production = VersionSpec(kind, "repository", REPO_ROOT / "knowledge" / tenant)
    elif kind == "template":
        from services.drafter.templates import BUILTIN

        production = VersionSpec(kind, BUILTIN.version, None)
    else:
        from services.triage.triager import DEFAULT_INTENT_MODEL

        production = VersionSpec(kind, "repository", Path(DEFAULT_INTENT_MODEL))
    candidate_spec = VersionSpec(kind, candidate, source or config.data_dir / "candidates" / tenant / kind / candidate)
    if not candidate_spec.source.exists():
        typer.secho(f"candidate {candidate}: no such folder {candidate_spec.source}", fg="red", err=True)
        raise typer.Exit(2)
    rows = _agent_examples(examples, tenant)
    agent_count = len(rows)
    from casetrail_tools.gate.baseline import rolling_baseline

    dev_rows, basis = dev_set(tenant, dev, dev_limit, config.tenants_dir)
    rows += dev_rows
    typer.echo(f"evaluation set: {agent_count} agents' examples + {len(dev_rows)} dev-set tickets", err=True)
    history = registry.history(tenant, kind)
    moment = dt.datetime.fromisoformat(at) if at else None
    try:
        verdict = run_gate(production, candidate_spec, rows, tenant, tenants_dir=config.tenants_dir,
                           knowledge_dir=REPO_ROOT / "knowledge", at=moment,
                           progress=lambda line: typer.echo(line, err=True),
                           baseline=lambda production_dev: rolling_baseline(history, basis, production_dev or 0.0))
    except GateError as exc:
        typer.secho(f"gate: {exc}", fg="red", err=True)
        raise typer.Exit(2)
    for line in report_lines(verdict, candidate, production.version):
        typer.echo(line)
    outcome = "promoted" if verdict.promoted else "refused"
    registry.record(tenant, kind, version=candidate, source=str(candidate_spec.source), outcome=outcome,
                    error_rate=verdict.candidate_error_rate, measured={
                        "examples": verdict.examples, "agent_examples": verdict.agent_examples,
                        "production": production.version,
                        "production_error_rate": round(verdict.production_error_rate, 6),
                        "dev_examples": verdict.dev_examples, "dev_basis": basis,
                        "dev_error_rate": _rounded(verdict.candidate_dev_error_rate),
                        "production_dev_error_rate": _rounded(verdict.production_dev_error_rate),
                        "baseline_error_rate": round(verdict.baseline_error_rate, 6),
                        "baseline_window": [m.version for m in verdict.baseline.window]})
    event = _event(verdict, tenant, kind, candidate, production.version, requested_by)
    write_figures(json_path, event.model_dump(mode="json"))
    if publish:
        _publish(event)
    raise typer.Exit(0 if verdict.promoted else 1)


def _rounded(rate: Optional[float]) -> Optional[float]:
    return None if rate is None else round(rate, 6)


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
        requested_by=requested_by, dev_examples=verdict.dev_examples,
        production_dev_error_rate=_rounded(verdict.production_dev_error_rate),
        candidate_dev_error_rate=_rounded(verdict.candidate_dev_error_rate),
        baseline_window=[m.version for m in verdict.baseline.window],
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
    from casetrail_tools.gate.history import history

    gate_app.command("history")(history)
    commands.root.add_typer(gate_app, name="gate")
