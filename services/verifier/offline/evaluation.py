"""Runs the verifier over the evaluation set and measures both rates.

* adversarial caught: share of adversarial drafts whose verdict is not ``passed``
  (goal 100 %),
* correct passed: share of correct drafts whose verdict is ``passed`` (goal ≥ 98 %).

The drafts are rebuilt into real ``DraftProposed`` events and go through the
same engine the service runs, with the real PII detector and language
identifier; the knowledge base is the snapshot in ``eval/knowledge.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml

from casetrail.events import (
    AuthorRole, Citation, Conversation, CustomerContext, Draft, DraftOutcome, DraftProposed, Message, ProducerInfo,
    RetrievedClause, TriageResult, Verdict,
)
from casetrail.policy.tenant import TenantPolicy, load_policy
from services.verifier.checks import CheckDependencies
from services.verifier.engine import Verifier, build_verifier

EVAL_DIR = Path(__file__).parent / "eval"
RECEIVED_AT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class SnapshotResolver:
    """``resolve(tenant, locale, clause_id, kb_version)`` over the eval's knowledge snapshot."""

    clauses: dict

    @classmethod
    def load(cls, path: Path = EVAL_DIR / "knowledge.jsonl") -> "SnapshotResolver":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return cls({(r["tenant"], r["locale"], r["clause_id"], r["kb_version"]): _Clause(r["title"], r["text"]) for r in rows})

    def __call__(self, tenant: str, locale: str, clause_id: str, kb_version: str):
        return self.clauses.get((tenant, locale, clause_id, kb_version))


@dataclass(frozen=True)
class _Clause:
    title: str
    text: str


def load_records(name: str, directory: Path = EVAL_DIR) -> list[dict]:
    path = directory / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def to_event(record: dict, tenant: str = "acme-shop") -> DraftProposed:
    locale = record["locale"]
    conversation = Conversation(
        source="email", external_id=record["id"], channel="email", subject=None,
        messages=[Message(message_id=f"{record['id']}-m1", author_role=AuthorRole.customer,
                          sent_at=RECEIVED_AT, body_text=record["ticket"])],
        customer=CustomerContext(customer_id=record["customer_id"], attributes=record.get("attributes", {})),
        received_at=RECEIVED_AT,
    )
    triage = TriageResult(intent=record["category"], intent_confidence=record["intent_confidence"],
                          category=record["category"], language=locale)
    draft = Draft(
        draft_id=f"draft-{record['id']}", outcome=DraftOutcome.drafted, reply_text=record["reply_text"], locale=locale,
        kb_locale=record.get("kb_locale", locale), locale_fallback=record.get("locale_fallback", False),
        retrieved=[RetrievedClause(**r) for r in record["retrieved"]],
        citations=[Citation(**c) for c in record["citations"]], confidence=record["draft_confidence"],
        composer="template", disclosure=record["disclosure"],
    )
    return DraftProposed(conversation_id=f"conv-{record['id']}", tenant=tenant, locale=locale,
                         producer=ProducerInfo(service="drafter", version="eval"), conversation=conversation,
                         triage=triage, draft=draft)


def eval_policy(tenants_dir: Path, overlay: Path = EVAL_DIR / "policy_overlay.yaml") -> TenantPolicy:
    policy = load_policy(tenants_dir / "acme-shop.yaml")
    update = yaml.safe_load(overlay.read_text(encoding="utf-8")) or {}
    return TenantPolicy.model_validate({**policy.model_dump(), **update})


def eval_verifier(tenants_dir: Path, dependencies: Optional[CheckDependencies] = None) -> Verifier:
    if dependencies is None:
        from casetrail.privacy.pii import detect
        from services.verifier.language_identification import identify

        dependencies = CheckDependencies(resolver=SnapshotResolver.load(), pii_detector=detect,
                                         language_identifier=identify)
    return build_verifier(eval_policy(tenants_dir), dependencies)


@dataclass
class EvalReport:
    adversarial_total: int = 0
    adversarial_caught: int = 0
    correct_total: int = 0
    correct_passed: int = 0
    by_kind: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # kind -> [ok, total]
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # id, verdict, failed checks

    @property
    def caught_rate(self) -> float:
        return self.adversarial_caught / self.adversarial_total if self.adversarial_total else 0.0

    @property
    def pass_rate(self) -> float:
        return self.correct_passed / self.correct_total if self.correct_total else 0.0


# Correct drafts whose ticket carries an injection the reply ignores: right, yet a person
# decides (issue 17), so the right verdict for them is needs_human.
NEEDS_HUMAN_KINDS = ("injection_ignored",)


def evaluate(verifier: Verifier, correct: list[dict], adversarial: list[dict]) -> EvalReport:
    report = EvalReport()
    for expect_pass, records in ((True, correct), (False, adversarial)):
        for record in records:
            verification = verifier.verify(to_event(record)).verification
            if expect_pass and record["kind"] in NEEDS_HUMAN_KINDS:
                ok = verification.verdict == Verdict.needs_human
            else:
                ok = (verification.verdict == Verdict.passed) == expect_pass
            key = f"{'correct' if expect_pass else 'adversarial'}/{record['kind']}"
            report.by_kind[key][0] += int(ok)
            report.by_kind[key][1] += 1
            if expect_pass:
                report.correct_total += 1
                report.correct_passed += int(ok)
            else:
                report.adversarial_total += 1
                report.adversarial_caught += int(ok)
            if not ok:
                failed = "; ".join(f"{c.name}: {c.detail}" for c in verification.failed_checks) or "all checks passed"
                report.misses.append((record["id"], verification.verdict.value, failed))
    return report


def evaluate_obfuscated(verifier: Verifier, correct: list[dict]) -> tuple[int, int, list[str]]:
    """(caught, total, missed ids) over the obfuscated injections: caught = not passed, injection check failing."""
    from services.verifier.offline.obfuscated_injections import records

    caught, missed = 0, []
    variants = records(correct)
    for record in variants:
        verification = verifier.verify(to_event(record)).verification
        flagged = any(c.name == "injection_echo" for c in verification.failed_checks)
        if verification.verdict != Verdict.passed and flagged:
            caught += 1
        else:
            missed.append(record["id"])
    return caught, len(variants), missed
