"""May this draft go to the customer without a human? Every reason it may not.

A reply is sent autonomously only when ALL of these hold: the category's mode
is ``autonomous``, the category does not always need a human, the verifier
passed the draft, triage's intent confidence reaches the category's threshold,
there is a drafted reply, no routing rule forbids it, and the customer is not
excluded from autonomy. The reasons are written into the decision and the
handoff brief, so an agent sees exactly why a draft waits for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from casetrail.events.draft import DraftOutcome
from casetrail.events.verification import Verdict
from casetrail.policy.tenant import CategoryPolicy

from services.router.rules import RuleEvaluation


@dataclass(frozen=True)
class AutonomyGate:
    allowed: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)  # why not (empty when allowed)


def autonomy_gate(
    *,
    category: str,
    policy: CategoryPolicy,
    verdict: Verdict,
    intent_confidence: float,
    draft_outcome: DraftOutcome,
    rules: RuleEvaluation,
    customer_excluded: bool = False,
    abuse: bool = False,
    injection_suspected: bool = False,
) -> AutonomyGate:
    reasons: list[str] = []
    if injection_suspected:  # whatever the mode or the verdict: a person decides (issue 17)
        reasons.append("suspected prompt injection in the ticket")
    if policy.mode != "autonomous":
        reasons.append(f"category {category} is in {policy.mode} mode")
    if policy.always_human:
        reasons.append(f"category {category} always needs a human")
    if verdict != Verdict.passed:
        reasons.append(f"verifier verdict is {verdict.value}")
    if intent_confidence < policy.threshold:
        reasons.append(f"intent confidence {intent_confidence:.2f} is below the {category} threshold {policy.threshold:.2f}")
    if draft_outcome != DraftOutcome.drafted:
        reasons.append(f"no draft to send ({draft_outcome.value})")
    matched = rules.matched
    if matched is not None and matched.never_autonomous:
        reasons.append(f"rule {matched.name} forbids autonomous replies")
    elif matched is not None and matched.escalate:
        reasons.append(f"rule {matched.name} escalates to {matched.queue}")
    for name in rules.errors:
        reasons.append(f"rule {name} could not be evaluated")
    if customer_excluded:
        reasons.append("customer is excluded from autonomous replies")
    if abuse:
        reasons.append("message flagged as abusive")
    return AutonomyGate(allowed=not reasons, reasons=tuple(reasons))
