"""The verifier engine: run a tenant's configured checks, derive the verdict.

Verdict: ``failed`` if any check whose failure means "the draft is wrong"
failed; otherwise ``needs_human`` if any policy check says a person decides;
otherwise ``passed``. Drafts that were never drafted (no grounding, no KB,
spam, ...) pass straight through as ``needs_human`` with a check saying why.

Build with ``build_verifiers`` at start-up: every tenant policy is validated
(unknown check, invalid threshold, rule that does not parse) and a
``VerifierConfigError`` naming the tenant and the entry stops the service.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Mapping, Optional

from casetrail.events import (
    CheckResult, DecisionVersions, DraftOutcome, DraftProposed, DraftVerified, ProducerInfo, Verdict, Verification,
)
from casetrail.policy.expressions import ExpressionError
from casetrail.policy.tenant import VERIFIER_CHECKS, TenantPolicy
from services.verifier.checks import FAILED, NEEDS_HUMAN, Check, CheckDependencies, check_classes
from services.verifier.review import DraftUnderReview

DRAFT_OUTCOME_CHECK = "draft_outcome"
TENANT_POLICY_CHECK = "tenant_policy"


class VerifierConfigError(ValueError):
    """The verifier cannot start with this configuration; the message names the entry."""


@dataclass
class TimedResult:
    result: CheckResult
    severity: str
    seconds: float


@dataclass
class VerifierReport:
    """The verification plus what the service wants for metrics (per-check time)."""

    verification: Verification
    timings: list[TimedResult] = field(default_factory=list)


class Verifier:
    """All checks of one tenant, built once; ``verify`` is pure and thread-safe."""

    def __init__(self, policy: TenantPolicy, checks: list[Check]):
        self.policy = policy
        self.checks = checks

    def verify(self, event: DraftProposed) -> VerifierReport:
        threshold = self.policy.category(event.triage.category).threshold
        if event.draft.outcome != DraftOutcome.drafted:
            reason = f": {event.draft.reason}" if event.draft.reason else ""
            check = CheckResult(name=DRAFT_OUTCOME_CHECK, passed=False, severity=NEEDS_HUMAN,
                                detail=f"no draft to verify (outcome {event.draft.outcome.value}{reason}); a human answers")
            return VerifierReport(Verification(verdict=Verdict.needs_human, checks=[check], threshold=threshold))
        review = DraftUnderReview(event, self.policy)
        timed: list[TimedResult] = []
        for check in self.checks:
            started = time.perf_counter()
            outcome = check.run(review)
            severity = outcome.severity or check.severity
            result = CheckResult(name=check.name, passed=outcome.passed, detail=outcome.detail, severity=severity)
            timed.append(TimedResult(result, severity, time.perf_counter() - started))
        return VerifierReport(
            Verification(verdict=derive_verdict(timed), checks=[t.result for t in timed], threshold=threshold), timed
        )


def derive_verdict(results: list[TimedResult]) -> Verdict:
    failed = [r for r in results if not r.result.passed]
    if any(r.severity == FAILED for r in failed):
        return Verdict.failed
    if failed:
        return Verdict.needs_human
    return Verdict.passed


def build_verifier(policy: TenantPolicy, dependencies: CheckDependencies = CheckDependencies()) -> Verifier:
    """The tenant's verifier, or ``VerifierConfigError`` naming the offending entry."""
    where = f"tenant {policy.tenant!r}"
    registry = check_classes()
    if tuple(registry) != VERIFIER_CHECKS:  # the policy's vocabulary and the code must agree
        raise VerifierConfigError(f"verifier checks in code {tuple(registry)} differ from policy {VERIFIER_CHECKS}")
    for name, category in policy.categories.items():
        if not 0.0 <= category.threshold <= 1.0:
            raise VerifierConfigError(f"{where}: categories.{name}.threshold: {category.threshold} is not in [0, 1]")
    checks: list[Check] = []
    for index, name in enumerate(policy.verifier.enabled_checks):
        if name not in registry:
            raise VerifierConfigError(f"{where}: verifier.checks[{index}]: unknown check {name!r}; "
                                      f"known: {', '.join(registry)}")
        try:
            checks.append(registry[name](
                policy,
                resolver=dependencies.resolver,
                pii_detector=dependencies.pii_detector,
                language_identifier=dependencies.language_identifier,
            ))
        except ExpressionError as exc:
            raise VerifierConfigError(f"{where}: {exc}") from None
    return Verifier(policy, checks)


class TenantVerifiers:
    """One verifier per tenant; a draft of an unknown tenant goes to a human."""

    def __init__(self, verifiers: Mapping[str, Verifier]):
        self.verifiers = dict(verifiers)

    def verify(self, event: DraftProposed) -> VerifierReport:
        verifier = self.verifiers.get(event.tenant)
        if verifier is None:
            check = CheckResult(name=TENANT_POLICY_CHECK, passed=False, severity=NEEDS_HUMAN,
                                detail=f"no policy for tenant {event.tenant!r}; nothing can be verified")
            return VerifierReport(Verification(verdict=Verdict.needs_human, checks=[check], threshold=1.0))
        return verifier.verify(event)

    def verified_event(self, event: DraftProposed, report: VerifierReport, producer: ProducerInfo) -> DraftVerified:
        """The ``DraftVerified`` event: the draft with its verification, stamped with the tenant policy used;
        its envelope derived from the draft's (same draft, same id: a replay yields the same event)."""
        verifier = self.verifiers.get(event.tenant)
        versions = event.versions
        if verifier is not None:
            versions = DecisionVersions(model=versions.model, prompt=versions.prompt,
                                        knowledge_base=versions.knowledge_base, policy=verifier.policy.fingerprint)
        return DraftVerified(
            **event.derive("verify", producer), versions=versions, conversation=event.conversation,
            triage=event.triage, draft=event.draft, verification=report.verification,
        )


def build_verifiers(policies: Mapping[str, TenantPolicy],
                    dependencies: CheckDependencies = CheckDependencies()) -> TenantVerifiers:
    return TenantVerifiers({tenant: build_verifier(policy, dependencies) for tenant, policy in policies.items()})


def default_dependencies(resolver: Optional[object] = None) -> CheckDependencies:
    """The real collaborators: the knowledge base's resolver, the PII detector, lingua."""
    from casetrail.knowledge import resolve
    from casetrail.privacy.pii import detect
    from services.verifier.language_identification import identify

    return CheckDependencies(resolver=resolver or resolve, pii_detector=detect, language_identifier=identify)
