"""The verifier's verdict with the result of every check it ran."""

from __future__ import annotations

import enum

from pydantic import Field

from casetrail.events.conversation import Conversation
from casetrail.events.draft import Draft
from casetrail.events.envelope import AvroRecord, DecisionEnvelope
from casetrail.events.triage import TriageResult


class Verdict(str, enum.Enum):
    passed = "passed"
    failed = "failed"
    needs_human = "needs_human"  # policy says a human decides, whatever the draft says


class CheckResult(AvroRecord):
    name: str
    passed: bool
    detail: str = ""
    # what a failure of this check means: "failed" (the draft is wrong) or
    # "needs_human" (policy says a person decides)
    severity: str = "failed"


class Verification(AvroRecord):
    verdict: Verdict
    checks: list[CheckResult] = Field(default_factory=list)
    threshold: float = 1.0

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.passed]


class DraftVerified(DecisionEnvelope):
    conversation: Conversation
    triage: TriageResult
    draft: Draft
    verification: Verification

    class Meta:
        namespace = "io.casetrail.events"
