"""Router service: Kafka wiring around the pure routing, SLA and feedback logic.

Processors (all sources are keyed by conversation id with the same partition
count, so the tables below are co-partitioned with every stream):

- ``drafts.verified``  → RoutedDecision (+ autonomous reply or out-of-hours
  acknowledgement, deduplicated by idempotency key; + SLA ``started``);
- ``sla.events``       → the ``sla_timers`` table follows the SLA events (the
  event log is the timers' source of truth); at-risk / breached re-route the
  case with a new escalation decision;
- ``replies.outbound`` → an answer stops the conversation's timer;
- ``feedback.agent``   → approve sends (deduplicated; never a draft that failed a check),
  reject records, reassign / escalate move the queue; an edit waits for the verifier,
  whose ``drafts.verified`` verdict on it (composer ``agent:<id>``) sends it or hands it back.

A periodic tick emits the at-risk / breached events timers owe. Tables:
``sla_timers``, ``sent_replies`` (idempotency keys already sent) and
``conversations`` (each conversation's ``Case``: what an agent's approve needs, and its status,
which moves only through ``services.router.case``; every handler is load → transition → store).
Tenant policies are loaded at import: an invalid policy (a rule that does not
parse, or that names an unknown field) refuses start-up with its name.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from typing import Callable, Optional

from casetrail import topics
from casetrail.events import AgentFeedback, DraftVerified, ReplyOutbound, SlaEvent
from casetrail.events.decision import ReplyKind, SlaEventKind
from casetrail.policy.calendar import preload_holidays
from casetrail.policy.tenant import TenantPolicy, load_policies
from casetrail.runtime import Output, RecordContext, Service

from services.router import metrics
from services.router.agent_edits import apply_verified_edit, is_agent_edit
from services.router.case import Case, CaseEvent, CaseStatus, case_customer, redrafted, transition, with_sla_closed
from services.router.decide import route
from services.router.feedback import apply_feedback
from services.router.sending import claim_send, derived_event_id
from services.router.settings import RouterSettings
from services.router.sla import RUNNING, STOPPED, SlaTimer, apply_event, due_transitions, with_fired
from services.router.sla_escalation import sla_escalation

log = logging.getLogger("casetrail.router")

svc = Service("router", config=RouterSettings())
router_settings: RouterSettings = svc.config
POLICIES: dict[str, TenantPolicy] = load_policies(svc.config.tenants_dir)


@svc.warm_up
def load_holiday_calendars() -> None:
    # SLA timers count business hours; without this the first ticket pays for building the
    # holiday calendars (seconds of CPU, during which the partition's records queue).
    for policy in POLICIES.values():
        preload_holidays(policy)


sla_timers = svc.table("sla_timers")
sent_replies = svc.table("sent_replies")
conversations = svc.table("conversations", erasable_by=case_customer)  # the timers and sent keys hold no customer's data


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


clock: Callable[[], dt.datetime] = utc_now


def _load_case(conversation_id: str) -> Optional[Case]:
    raw = conversations.get(conversation_id)
    return Case.from_json(raw) if raw else None


def _store_case(conversation_id: str, case: Case) -> None:
    conversations[conversation_id] = case.to_json()


def _policy(tenant: str, ctx: RecordContext) -> Optional[TenantPolicy]:
    policy = POLICIES.get(tenant)
    if policy is None:
        ctx.dead_letter("unknown_tenant", f"no policy for tenant {tenant!r} in {svc.config.tenants_dir}")
    return policy


def _send(reply: ReplyOutbound, outputs: list[Output], now: dt.datetime) -> None:
    if claim_send(sent_replies, reply, at=now.isoformat()):
        outputs.append(Output(topics.REPLIES_OUTBOUND, reply))
        svc.after_commit(metrics.SENDS.labels(reply.tenant, reply.kind.value, reply.sent_by.split(":", 1)[0]).inc)
    else:
        svc.after_commit(metrics.DUPLICATE_SENDS_SUPPRESSED.labels(reply.tenant).inc)
        log.info("duplicate send suppressed", extra={"conversation_id": reply.conversation_id, "draft_id": reply.draft_id})


def _stop_event(timer: SlaTimer, causation_id: str, reason: CaseStatus, now: dt.datetime) -> SlaEvent:
    return SlaEvent(
        event_id=derived_event_id("sla", timer.conversation_id, timer.draft_id or "", "stopped"),
        conversation_id=timer.conversation_id, causation_id=causation_id, tenant=timer.tenant, locale=timer.locale,
        occurred_at=now, producer=svc.producer_info, kind=SlaEventKind.stopped, due_at=timer.due_at,
        fraction=timer.fraction, queue=timer.queue, at_risk_at=timer.at_risk_at, priority=timer.priority,
        draft_id=timer.draft_id, reason=reason.value,  # the status that stopped it: answered or resolved
    )


def _open_timer(conversation_id: str) -> Optional[SlaTimer]:
    raw = sla_timers.get(conversation_id)
    timer = SlaTimer.from_dict(raw) if raw else None
    return timer if timer is not None and timer.open else None


def _stop_timer(conversation_id: str, causation_id: str, reason: CaseStatus, now: dt.datetime) -> list[Output]:
    """Close the conversation's open timer now (so neither the tick nor a second answer fires it
    again) and announce it; the ``stopped`` event removes it from the table."""
    timer = _open_timer(conversation_id)
    if timer is None:
        return []
    sla_timers[conversation_id] = timer.with_state(STOPPED).to_dict()
    return [Output(topics.SLA_EVENTS, _stop_event(timer, causation_id, reason, now))]


_FIRST_RESPONSE_OUTCOMES = {"send": "sent", "escalate": "human_notified", "review": "human_notified",
                             "acknowledge": "acknowledged"}


def _observe_first_response(decision, now) -> None:
    """The design's first-response time, and automation per category and locale, for the dashboards: both
    describe the committed decision (a decision aborted and made again is one first response), so they are
    counted once its transaction committed."""
    action = decision.action.value
    svc.after_commit(metrics.AUTOMATION.labels(decision.tenant, decision.triage.category, decision.locale,
                                               "true" if action == "send" else "false").inc)
    if decision.intake_at is not None:
        seconds = max(0.0, (now - decision.intake_at).total_seconds())
        first_response = metrics.FIRST_RESPONSE_SECONDS.labels(decision.tenant, _FIRST_RESPONSE_OUTCOMES.get(action, "none"))
        svc.after_commit(functools.partial(first_response.observe, seconds))


def _route_agent_edit(event: DraftVerified, now: dt.datetime) -> list[Output]:
    """The verifier's verdict on an agent's edit: send it, or route it back to the agent."""
    outcome = apply_verified_edit(_load_case(event.conversation_id), event, svc.producer_info, now)
    verdict = "sent" if outcome.reply else (outcome.note or "refused")
    svc.after_commit(metrics.FEEDBACK.labels(event.tenant, "edit", verdict).inc)
    if outcome.note is not None:
        return []  # an edit of a draft the conversation has moved past, or of a closed case: never sent
    _store_case(event.conversation_id, outcome.case)
    outputs: list[Output] = []
    if outcome.decision is not None:
        outputs.append(Output(topics.DECISIONS_ROUTED, outcome.decision))
    if outcome.reply is not None:
        _send(outcome.reply, outputs, now)
        outputs.extend(_stop_timer(event.conversation_id, event.event_id, outcome.case.status, now))
    return outputs


@svc.processor(source=topics.DRAFTS_VERIFIED, input_type=DraftVerified)
async def route_verified(event: DraftVerified, ctx: RecordContext) -> list[Output]:
    policy = _policy(event.tenant, ctx)
    if policy is None:
        return []
    now = clock()
    if is_agent_edit(event):
        return _route_agent_edit(event, now)
    started = time.perf_counter()
    outcome = route(event, policy, now, svc.producer_info, at_risk_fraction=router_settings.router_at_risk_fraction)
    metrics.DECISION_SECONDS.observe(time.perf_counter() - started)
    decision = outcome.decision
    # what the decision is counts once it is committed; evaluating it was work done (above, below)
    ctx.after_commit(metrics.DECISIONS.labels(event.tenant, decision.mode.value, decision.action.value,
                                              decision.queue or "none").inc)
    _observe_first_response(decision, now)
    if decision.rule:
        ctx.after_commit(metrics.RULES_FIRED.labels(event.tenant, decision.rule).inc)
    for name in filter(None, decision.inputs.get("rule_errors", "").split(",")):
        metrics.RULE_ERRORS.labels(event.tenant, name).inc()

    outputs = [Output(topics.DECISIONS_ROUTED, decision)]
    for reply in outcome.replies:
        _send(reply, outputs, now)

    previous = _load_case(event.conversation_id)
    case = redrafted(previous, outcome.case)  # a redelivered decision keeps what happened since
    _store_case(event.conversation_id, case)
    if previous is not None and previous.draft_id == case.draft_id and not case.timer_may_start:
        return outputs  # answered, or its timer already ran out: never restart it
    if outcome.sla_started is not None:
        outputs.append(Output(topics.SLA_EVENTS, outcome.sla_started))
    return outputs


@svc.processor(source=topics.SLA_EVENTS, input_type=SlaEvent)
async def follow_sla(event: SlaEvent, ctx: RecordContext) -> list[Output]:
    key = event.conversation_id
    raw = sla_timers.get(key)
    timer = SlaTimer.from_dict(raw) if raw else None
    if event.kind == SlaEventKind.started:
        case = _load_case(key)
        answered = case is not None and case.draft_id == event.draft_id and case.answered
        if answered or (timer is not None and timer.draft_id == event.draft_id):
            return []  # redelivered start, or the case was answered before its timer began
        sla_timers[key] = SlaTimer(
            conversation_id=key, tenant=event.tenant, locale=event.locale, started_at=event.occurred_at,
            due_at=event.due_at, at_risk_at=event.at_risk_at or event.due_at, fraction=event.fraction,
            queue=event.queue, priority=event.priority, draft_id=event.draft_id, partition=ctx.partition,
        ).to_dict()
        return []
    if timer is None or (event.draft_id and timer.draft_id != event.draft_id):
        return []  # a stale event for an older draft's timer
    if event.kind == SlaEventKind.stopped:
        timer = timer.with_state(RUNNING) if timer.state == STOPPED else timer  # closed early by _stop_timer
    after = apply_event(timer, event.kind)
    if after is None or after == timer:
        return []
    if after.open:
        sla_timers[key] = after.to_dict()
    else:
        del sla_timers[key]  # breached or stopped: nothing left to fire
        case = _load_case(key)
        if case is not None and case.draft_id == timer.draft_id:
            _store_case(key, with_sla_closed(case, after.state))
    outputs: list[Output] = []
    if event.kind in (SlaEventKind.at_risk, SlaEventKind.breached) and router_settings.router_escalate_on_sla:
        policy = POLICIES.get(event.tenant)
        case = _load_case(key)
        escalation = policy and sla_escalation(
            case, policy, event.kind, event.due_at, clock(), svc.producer_info, event.event_id
        )
        if escalation is not None:
            _store_case(key, transition(case, CaseEvent.sla_escalated, queue=escalation.queue,
                                        priority=escalation.priority).case)
            ctx.after_commit(metrics.DECISIONS.labels(event.tenant, escalation.mode.value, escalation.action.value,
                                                      escalation.queue or "none").inc)
            outputs.append(Output(topics.DECISIONS_ROUTED, escalation))
    return outputs


@svc.processor(source=topics.REPLIES_OUTBOUND, input_type=ReplyOutbound)
async def stop_on_answer(event: ReplyOutbound, ctx: RecordContext) -> list[Output]:
    if event.kind != ReplyKind.answer:
        return []  # an acknowledgement does not answer the customer
    case = _load_case(event.conversation_id)
    step = transition(case, CaseEvent.reply_sent) if case is not None else None
    if step is not None and step.moved:
        _store_case(event.conversation_id, step.case)
    return _stop_timer(event.conversation_id, event.event_id, CaseStatus.answered, clock())


@svc.processor(source=topics.FEEDBACK_AGENT, input_type=AgentFeedback)
async def apply_agent_feedback(event: AgentFeedback, ctx: RecordContext) -> list[Output]:
    now = clock()
    outcome = apply_feedback(_load_case(event.conversation_id), event, svc.producer_info, now)
    if outcome.problem is not None:
        ctx.after_commit(metrics.FEEDBACK.labels(event.tenant, event.action.value, outcome.problem).inc)
        ctx.dead_letter(outcome.problem, f"agent feedback on draft {event.draft_id!r} cannot be applied: {outcome.problem}")
        return []
    ctx.after_commit(metrics.FEEDBACK.labels(event.tenant, event.action.value, outcome.note or "applied").inc)
    _store_case(event.conversation_id, outcome.case)
    outputs: list[Output] = []
    if outcome.reply is not None:
        _send(outcome.reply, outputs, now)
    if outcome.stop_sla:
        # An agent's answer stops the timer here already: the customer is answered from this moment.
        outputs.extend(_stop_timer(event.conversation_id, event.event_id, outcome.case.status, now))
    return outputs


def _owned_partitions() -> set[int]:
    """SLA-topic partitions this worker owns (the table holds only those; kept as a guard)."""
    return svc.owned_partitions(topics.SLA_EVENTS)


def _count_fired(tenant: str, kinds: tuple[SlaEventKind, ...]) -> None:
    for kind in kinds:
        metrics.SLA_EVENTS.labels(tenant, kind.value).inc()
        (metrics.SLA_AT_RISK if kind == SlaEventKind.at_risk else metrics.SLA_BREACHED).labels(tenant).inc()


@svc.timer(router_settings.router_sla_tick_seconds)
async def fire_sla_timers() -> None:
    now = clock()
    owned = _owned_partitions()
    due: list[Output] = []
    open_count = 0
    for key, raw in list(sla_timers.items()):
        if not raw:
            continue
        timer = SlaTimer.from_dict(raw)
        if timer.partition is not None and timer.partition not in owned:
            continue  # not this worker's partition (any more): its owner fires it
        open_count += timer.open
        kinds = due_transitions(timer, now)
        if not kinds:
            continue
        # The events and the record that they were emitted commit in one transaction.
        sla_timers[key] = with_fired(timer, kinds).to_dict()
        for kind in kinds:
            due.append(Output(topics.SLA_EVENTS, SlaEvent(
                event_id=derived_event_id("sla", key, timer.draft_id or "", kind.value),
                conversation_id=key, causation_id=derived_event_id("sla", key, timer.draft_id or "", "started"),
                tenant=timer.tenant, locale=timer.locale, occurred_at=now, producer=svc.producer_info,
                kind=kind, due_at=timer.due_at, fraction=timer.fraction, queue=timer.queue,
                at_risk_at=timer.at_risk_at, priority=timer.priority, draft_id=timer.draft_id,
            )))
        # counted once the tick committed: a refused (zombie's) or aborted tick fired nothing
        svc.after_commit(functools.partial(_count_fired, timer.tenant, tuple(kinds)))
    metrics.SLA_OPEN_TIMERS.set(open_count)
    if due:
        await svc.produce(*due)
