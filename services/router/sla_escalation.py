"""Escalate before (and at) a breach: re-route an open case when its SLA timer fires.

When a timer reaches its at-risk instant the tenant's rules are evaluated
again with ``sla_state == 'at_risk'`` and the current ``waiting_minutes``,
so rules such as "enterprise customer waiting over 2 h → customer success"
fire while the customer is still waiting, not only at intake. The case is
escalated to the matching rule's queue (else it stays in its queue) with at
least ``high`` priority; at the breach, ``urgent``. The new decision carries
the original brief plus why it was escalated now.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from casetrail.events.decision import Action, HandoffBrief, RoutedDecision, SlaEventKind
from casetrail.events.envelope import ProducerInfo
from casetrail.policy.tenant import TenantPolicy

from services.router.case import Case, CaseEvent, refusal
from services.router.decide import higher_priority
from services.router.rules import evaluate_rules
from services.router.sending import derived_event_id
from services.router.signals import recorded_inputs

MINIMUM_PRIORITY = {SlaEventKind.at_risk: "high", SlaEventKind.breached: "urgent"}


def sla_escalation(
    case: Optional[Case],
    policy: TenantPolicy,
    kind: SlaEventKind,
    due_at: dt.datetime,
    now: dt.datetime,
    producer: ProducerInfo,
    causation_id: str,
) -> Optional[RoutedDecision]:
    """The escalation decision for an SLA event, or None when the case is unknown or its lifecycle
    refuses an escalation (answered, resolved or dropped)."""
    if case is None or case.decision is None or kind not in MINIMUM_PRIORITY:
        return None
    if refusal(case, CaseEvent.sla_escalated) is not None:
        return None
    previous = case.decision
    variables = dict(case.variables)
    waiting_since = case.waiting_since or previous.intake_at or now
    variables["sla_state"] = kind.value
    variables["waiting_minutes"] = int(max((now - waiting_since).total_seconds(), 0) // 60)
    rules = evaluate_rules(policy, variables)
    rule = rules.matched
    queue = rule.queue if rule is not None else (case.queue or policy.default_queue)
    priority = higher_priority(case.priority, rule.priority if rule else None, MINIMUM_PRIORITY[kind])
    why = f"SLA {kind.value.replace('_', ' ')}: reply due {due_at.astimezone(dt.timezone.utc).isoformat()}"
    inputs = recorded_inputs(variables)
    if rules.errors:
        inputs["rule_errors"] = ",".join(rules.errors)
    brief = previous.brief or HandoffBrief(summary="", draft_text=previous.reply_text)
    brief = brief.model_copy(
        update={
            "not_sent_because": [why, *brief.not_sent_because],
            "signals": {**brief.signals, "sla_state": kind.value, "waiting_minutes": str(variables["waiting_minutes"])},
        }
    )
    return previous.model_copy(
        update={
            "event_id": derived_event_id("sla-escalation", causation_id),
            "causation_id": causation_id,
            "occurred_at": now,
            "producer": producer,
            "action": Action.escalate,
            "rule": rule.name if rule is not None else f"sla-{kind.value.replace('_', '-')}",
            "queue": queue,
            "priority": priority,
            "reason": f"{why}; escalated to {queue} ({priority})",
            "inputs": inputs,
            "brief": brief,
            "deferred_action": None,
            "human_from": None,
        }
    )
