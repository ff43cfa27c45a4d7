"""Run the decision chain for production and for the candidate over the evaluation set.

The evaluation set is the tenant's agent-labelled examples (exported from the
review console's store: ``casetrail review examples export``) plus the
project's dev set (``evaluation/dev/<locale>.jsonl`` for the tenant's locales).
Each version is the same chain (``casetrail eval decisions``) with one part
swapped: the knowledge-base source folder, the intent model directory, or the
drafter's reply templates (a YAML file over the built-in set).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from casetrail_tools.decision_eval.chain import build_chain, next_business_moment
from casetrail_tools.decision_eval.tickets import parse_ticket
from casetrail_tools.gate.errors import is_error, slices_of
from casetrail_tools.gate.verdict import GateVerdict, compare

SUPPORTED_KINDS = ("knowledge_base", "intent_model", "template")


class GateError(RuntimeError):
    pass


@dataclass(frozen=True)
class VersionSpec:
    kind: str
    version: str
    # KB source folder (the layout of knowledge/<tenant>), intent model directory, or template file;
    # None: the built-in reply templates (production when no template set was ever promoted)
    source: Optional[Path]


def templates_of(spec: VersionSpec):
    """The reply templates ``spec`` drafts with (the built-in set unless it is a template version)."""
    from services.drafter.templates import BUILTIN, TemplateFileError, load_templates

    if spec.kind != "template" or spec.source is None:
        return BUILTIN
    try:
        return load_templates(spec.source, spec.version)
    except TemplateFileError as exc:
        raise GateError(str(exc)) from None


def read_examples(paths: list[Path], limit_per_file: int = 0) -> list[dict]:
    rows: list[dict] = []
    for path in paths:
        lines = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        rows += [json.loads(line) for line in (lines[:limit_per_file] if limit_per_file else lines)]
    return rows


def dev_set(tenant: str, dev: Path, limit: int, tenants_dir: Path) -> tuple[list[dict], str]:
    """The tenant's dev-set tickets (its locales' files under ``dev``, first ``limit`` of each) and the
    basis a dev-set measurement on them is comparable on (``baseline.dev_basis``)."""
    from casetrail.policy.tenant import load_policies
    from casetrail_tools.gate.baseline import dev_basis

    policy = load_policies(tenants_dir)[tenant]
    files = [dev / f"{locale}.jsonl" for locale in policy.locales if (dev / f"{locale}.jsonl").exists()]
    rows = read_examples(files, limit)
    return rows, dev_basis(rows, policy.model_dump_json())


@contextlib.contextmanager
def _knowledge_of(spec: VersionSpec, tenant: str, default_knowledge: Path) -> Iterator[Path]:
    """The knowledge dir the chain reads: the version's own for a knowledge base, else the default."""
    if spec.kind != "knowledge_base":
        yield default_knowledge
        return
    with tempfile.TemporaryDirectory(prefix="casetrail-gate-kb-") as scratch:
        (Path(scratch) / tenant).symlink_to(spec.source.resolve(), target_is_directory=True)
        yield Path(scratch)


def decide_all(spec: VersionSpec, examples: list[dict], tenant: str, *, tenants_dir: Path, knowledge_dir: Path,
               at: Optional[dt.datetime], progress: Callable[[str], None]) -> list:
    intent_model = spec.source if spec.kind == "intent_model" else None
    with _knowledge_of(spec, tenant, knowledge_dir) as knowledge:
        chain, scratch = build_chain(tenant, tenants_dir=tenants_dir, knowledge_dir=knowledge,
                                     intent_model=intent_model, templates=templates_of(spec), progress=progress)
        try:
            moment = at or next_business_moment(chain.policy, dt.datetime.now(dt.timezone.utc))
            progress(f"{spec.kind} {spec.version}: deciding {len(examples)} examples at {moment.isoformat()}")
            return [chain.decide(parse_ticket(example, f"example {example.get('id')}"), moment) for example in examples]
        finally:
            scratch.cleanup()


def run_gate(production: VersionSpec, candidate: VersionSpec, examples: list[dict], tenant: str, *,
             tenants_dir: Path, knowledge_dir: Path, at: Optional[dt.datetime] = None,
             progress: Callable[[str], None] = lambda _: None, baseline=None) -> GateVerdict:
    """``baseline``: as ``verdict.compare`` takes it (default: production's dev-set error rate in this run)."""
    if candidate.kind not in SUPPORTED_KINDS:
        raise GateError(f"kind {candidate.kind!r}: the gate evaluates {', '.join(SUPPORTED_KINDS)}")
    if not examples:
        raise GateError("the evaluation set is empty")
    # A template candidate is judged by the wording rules too, each side with its own templates (loaded
    # first: an unservable file is refused before minutes of deciding).
    wording = candidate.kind == "template"
    old_templates, new_templates = (templates_of(production), templates_of(candidate)) if wording else (None, None)
    before = decide_all(production, examples, tenant, tenants_dir=tenants_dir, knowledge_dir=knowledge_dir, at=at,
                        progress=progress)
    after = decide_all(candidate, examples, tenant, tenants_dir=tenants_dir, knowledge_dir=knowledge_dir, at=at,
                       progress=progress)
    rows = [(example, is_error(example, old, old_templates), is_error(example, new, new_templates),
             slices_of(example, old)) for example, old, new in zip(examples, before, after)]
    return compare(rows, baseline)
