"""The routing decision for one verified draft: pure, no Kafka, no clock of its own.

Order of evaluation (each step is recorded on the ``RoutedDecision``):

1. spam → ``drop`` (nothing is sent, no SLA);
2. the tenant's routing rules, in configured order; the first match names
   queue and priority, and (unless it is a routing-only rule) escalates;
3. the autonomy gate (mode × verdict × threshold × rules, see ``autonomy``);
4. otherwise shadow (humans handle, the draft is only recorded), review (an
   agent approves/edits/rejects the draft) or escalate (nothing to approve);
5. outside the chosen queue's hours a non-urgent human case becomes
   ``acknowledge``: the customer is told, in their language, when a human
   answers; urgent cases (priority urgent or an ``immediate`` rule) escalate.

Outputs: the decision, the replies to send (autonomous answer or
acknowledgement), the SLA ``started`` event for human-handled cases, and the
conversation's case (``services.router.case``) the feedback and SLA processors read later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from casetrail.events.decision import (
    Action,
    HandoffBrief,
    Mode,
    ReplyKind,
    ReplyOutbound,
    RoutedDecision,
    SlaEvent,
    SlaEventKind,
)
from casetrail.events.draft import DraftOutcome
from casetrail.events.envelope import DecisionVersions, ProducerInfo
from casetrail.events.verification import DraftVerified, Verdict
from casetrail.policy.tenant import PRIORITIES, TenantPolicy

from services.router.acknowledgement import acknowledgement_text
from services.router.autonomy import autonomy_gate
from services.router.brief import handoff_brief
from services.router.case import Case, drafted
from services.router.hours import is_open, next_opening
from services.router.queues import choose_queue
from services.router.rules import evaluate_rules, vip_by_policy
from services.router.sending import derived_event_id, make_reply
from services.router.signals import customer_variables, recorded_inputs, routing_variables, waiting_since
from services.router.sla import at_risk_instant

HUMAN_ACTIONS = (Action.review, Action.escalate, Action.shadow, Action.acknowledge)


def higher_priority(*priorities: Optional[str]) -> str:
    known = [p for p in priorities if p in PRIORITIES]
    return max(known, key=PRIORITIES.index) if known else "normal"


@dataclass
class RoutingOutcome:
    decision: RoutedDecision
    case: Case  # what the router's conversations table remembers (services.router.case)
    replies: list[ReplyOutbound] = field(default_factory=list)
    sla_started: Optional[SlaEvent] = None


def sla_hours(policy: TenantPolicy):
    return policy.business_hours if policy.sla.business_hours_only else None


def route(
    event: DraftVerified,
    policy: TenantPolicy,
    now: dt.datetime,
    producer: ProducerInfo,
    *,
    at_risk_fraction: Optional[float] = None,
) -> RoutingOutcome:
    triage, draft, verification, conversation = event.triage, event.draft, event.verification, event.conversation
    category_policy = policy.category(triage.category)
    mode = Mode(category_policy.mode)
    fraction = at_risk_fraction if at_risk_fraction is not None else policy.sla.at_risk_fraction

    started_at = waiting_since(conversation)
    due_at = triage.sla_due_at
    at_risk_at = at_risk_instant(started_at, due_at, fraction, sla_hours(policy)) if due_at is not None else None

    customer = customer_variables(conversation)
    variables = routing_variables(
        event, policy, now, at_risk_at=at_risk_at, vip_by_policy=vip_by_policy(policy, customer)
    )
    inputs = recorded_inputs(variables)
    inputs["threshold"] = f"{category_policy.threshold:.2f}"
    inputs["mode"] = mode.value
    if at_risk_at is not None:
        inputs["sla_at_risk_at"] = at_risk_at.isoformat()

    rule = None
    brief: Optional[HandoffBrief] = None
    replies: list[ReplyOutbound] = []
    queue: Optional[str] = None
    deferred: Optional[Action] = None
    human_from: Optional[dt.datetime] = None
    decision_id = derived_event_id("decision", event.event_id)

    injection_suspected = any(c.name == "injection_echo" and not c.passed for c in verification.checks)
    if conversation.automated is not None:
        # An auto-reply, bounce or list mail: answering it starts a mail loop or goes nowhere.
        action, priority, rule_name = Action.drop, "low", "automated"
        reason = f"automated message ({conversation.automated.value}: {conversation.automated_signal}): never answered"
    elif triage.spam:
        action, priority, rule_name, reason = Action.drop, "low", "spam", "triage flagged the message as spam"
    else:
        rules = evaluate_rules(policy, variables)
        if rules.errors:
            inputs["rule_errors"] = ",".join(rules.errors)
        rule = rules.matched
        rule_name = rule.name if rule else None
        gate = autonomy_gate(
            category=triage.category,
            policy=category_policy,
            verdict=verification.verdict,
            intent_confidence=triage.intent_confidence,
            draft_outcome=draft.outcome,
            rules=rules,
            customer_excluded=conversation.customer.customer_id in policy.autonomy_excluded_customers,
            abuse=triage.abuse,
            injection_suspected=injection_suspected,
        )
        choice = choose_queue(policy, triage.category, event.locale, rule)
        queue = choice.queue
        priority = higher_priority(
            triage.priority, triage.urgency if triage.urgency == "urgent" else None,
            rule.priority if rule else None, policy.vip.priority if variables["vip"] else None,
        )
        if rule is not None and rule.escalate:
            action = Action.escalate
            reason = f"rule {rule.name} escalates to {rule.queue} ({priority})"
        elif gate.allowed:
            action = Action.send
            reason = (
                f"autonomous: verifier passed and intent confidence {triage.intent_confidence:.2f} "
                f">= {category_policy.threshold:.2f}"
            )
        elif mode == Mode.shadow:
            action = Action.shadow
            reason = "shadow mode: draft recorded, never sent; " + "; ".join(gate.reasons)
        elif draft.outcome == DraftOutcome.drafted and verification.verdict != Verdict.needs_human:
            action = Action.review
            reason = "review: " + "; ".join(gate.reasons)
        else:
            action = Action.escalate
            reason = "escalate: " + "; ".join(gate.reasons)

        urgent = priority == "urgent" or (rule is not None and rule.immediate)
        if action in (Action.review, Action.escalate, Action.shadow) and not urgent and not is_open(choice.hours, now):
            deferred, action = action, Action.acknowledge
            human_from = next_opening(choice.hours, now)
            reason = f"outside {queue} hours: acknowledged; {deferred.value} from {human_from.isoformat() if human_from else 'unknown'}; {reason}"
            if human_from is not None:
                text, _ = acknowledgement_text(
                    human_from, event.locale, choice.hours.zone, conversation.customer.timezone
                )
                replies.append(
                    make_reply(
                        conversation_id=event.conversation_id, causation_id=decision_id, tenant=event.tenant,
                        locale=event.locale, channel=conversation.channel, source=conversation.source,
                        external_id=conversation.external_id, draft_id=draft.draft_id, body=text,
                        sent_by="bot", producer=producer, kind=ReplyKind.acknowledgement,
                    )
                )

        if action == Action.send:
            replies.append(
                make_reply(
                    conversation_id=event.conversation_id, causation_id=decision_id, tenant=event.tenant,
                    locale=event.locale, channel=conversation.channel, source=conversation.source,
                    external_id=conversation.external_id, draft_id=draft.draft_id, body=draft.reply_text,
                    sent_by="bot", producer=producer, citations=[c.ref for c in draft.citations],
                )
            )
        else:
            brief = handoff_brief(
                event, not_sent_because=list(gate.reasons), rule=rule,
                waiting_minutes=variables["waiting_minutes"], sla_state=variables["sla_state"],
            )

    versions = DecisionVersions(
        model=event.versions.model, prompt=event.versions.prompt,
        knowledge_base=event.versions.knowledge_base, policy=policy.fingerprint,
    )
    decision = RoutedDecision(
        event_id=decision_id,
        conversation_id=event.conversation_id,
        causation_id=event.event_id,
        tenant=event.tenant,
        locale=event.locale,
        occurred_at=now,
        producer=producer,
        versions=versions,
        mode=mode,
        action=action,
        rule=rule_name,
        queue=queue,
        priority=priority,
        reason=reason,
        inputs=inputs,
        triage=triage.model_copy(update={"embedding": []}),  # vectors stay with triage; decisions stay small
        draft_id=draft.draft_id,
        reply_text=draft.reply_text,
        citations=[c.ref for c in draft.citations],
        verdict=verification.verdict,
        brief=brief,
        intake_at=conversation.received_at,
        deferred_action=deferred,
        human_from=human_from,
    )

    sla_started = None
    if action in HUMAN_ACTIONS and due_at is not None and at_risk_at is not None:
        sla_started = SlaEvent(
            event_id=derived_event_id("sla", event.conversation_id, draft.draft_id, "started"),
            conversation_id=event.conversation_id,
            causation_id=decision_id,
            tenant=event.tenant,
            locale=event.locale,
            occurred_at=now,
            producer=producer,
            kind=SlaEventKind.started,
            due_at=due_at,
            fraction=fraction,
            queue=queue,
            at_risk_at=at_risk_at,
            priority=priority,
            draft_id=draft.draft_id,
        )
    return RoutingOutcome(
        decision=decision,
        replies=replies,
        sla_started=sla_started,
        case=drafted(event, decision, variables, started_at),
    )
