"""Run the decision chain for production and for the candidate over the evaluation set.

The evaluation set is the tenant's agent-labelled examples (exported from the
review console's store: ``casetrail review examples export``) plus the
project's dev set (``evaluation/dev/<locale>.jsonl`` for the tenant's locales).
Each version is the same chain (``casetrail eval decisions``) with one part
swapped: the knowledge-base source folder, or the intent model directory.
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

SUPPORTED_KINDS = ("knowledge_base", "intent_model")


class GateError(RuntimeError):
    pass


@dataclass(frozen=True)
class VersionSpec:
    kind: str
    version: str
    source: Path  # KB source folder (the layout of knowledge/<tenant>) or intent model directory


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
                                     intent_model=intent_model, progress=progress)
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
        raise GateError(f"kind {candidate.kind!r}: the gate evaluates {', '.join(SUPPORTED_KINDS)} "
                        "(the drafter has one built-in template, so there are no template versions to compare)")
    if not examples:
        raise GateError("the evaluation set is empty")
    before = decide_all(production, examples, tenant, tenants_dir=tenants_dir, knowledge_dir=knowledge_dir, at=at,
                        progress=progress)
    after = decide_all(candidate, examples, tenant, tenants_dir=tenants_dir, knowledge_dir=knowledge_dir, at=at,
                       progress=progress)
    rows = [(example, is_error(example, old), is_error(example, new), slices_of(example, old))
            for example, old, new in zip(examples, before, after)]
    return compare(rows, baseline)
