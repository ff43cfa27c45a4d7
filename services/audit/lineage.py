"""Folding audit records into the lineage of one conversation (pure, no Kafka).

A lineage is every record of a conversation in canonical order (stage rank,
time, event id), each linked to the event it was derived from
(``causation_id``), plus a summary of what was decided — intent and model,
retrieved and cited clauses, every verifier check, mode / rule / queue, what
was sent, agent feedback, SLA outcome, re-contact and erasure — and the gaps
(missing stages, causes that are not in the log).

The fold depends only on the *set* of records: the same events in any order,
delivered any number of times, give the same lineage.
"""

from __future__ import annotations

from typing import Iterable, Optional

from services.audit.records import content_hash, sort_key

REQUIRED_STAGES = ("received", "triaged", "drafted", "verified", "routed")
ROOT_STAGES = ("received", "intake", "recontact", "erased", "kb_published", "gate", "deadletter")


def dedupe(records: Iterable[dict]) -> list[dict]:
    """One record per event id, in canonical order.

    A redelivered event has the same bytes; if two different records ever
    share an event id, the one with the smaller content hash wins, so the
    choice never depends on which arrived first.
    """
    by_id: dict[str, dict] = {}
    for record in records:
        seen = by_id.get(record["event_id"])
        if seen is None or (seen != record and content_hash(record) < content_hash(seen)):
            by_id[record["event_id"]] = record
    return sorted(by_id.values(), key=sort_key)


def fold(conversation_id: str, records: Iterable[dict]) -> dict:
    """The lineage of ``conversation_id`` from its own records and those that refer to it.

    ``records`` may include re-contact records of later conversations that name
    this one as original, the customer's erasure records and the intake record;
    everything else must belong to the conversation.
    """
    steps = dedupe(records)
    by_event = {r["event_id"]: r for r in steps}
    own = [r for r in steps if r.get("conversation_id") == conversation_id or r["stage"] in ("intake", "erased")]
    own_ids = {r["event_id"] for r in own}

    head: dict = {
        "conversation_id": conversation_id,
        "tenant": None,
        "locale": None,
        "source": None,
        "external_id": None,
        "channel": None,
        "customer_id": None,
        "key_id": None,
        "received_at": None,
    }
    summary: dict = {
        "intent": None,
        "intent_confidence": None,
        "category": None,
        "priority": None,
        "triage_model": None,
        "draft_outcome": None,
        "draft_confidence": None,
        "draft_id": None,
        "retrieved": [],
        "citations": [],
        "draft_model": None,
        "prompt_version": None,
        "kb_version": None,
        "verdict": None,
        "checks": [],
        "failed_checks": [],
        "threshold": None,
        "mode": None,
        "action": None,
        "rule": None,
        "queue": None,
        "policy_version": None,
        "routed_at": None,
        "sent": False,
        "sent_by": None,
        "sent_at": None,
        "sent_citations": [],
        "acknowledged": False,  # an out-of-hours acknowledgement went out (it is not an answer)
        # Delivery receipts: when the customer could see a reply (first response), and whether an
        # answer (not an acknowledgement) reached them, from whom: what deflection counts.
        "first_response_at": None,
        "answer_delivered": False,
        "answer_delivered_by": None,
        "deliveries": {"delivered": 0, "failed": 0, "suppressed": 0},
        "feedback": None,
        "corrected_intent": None,
        "sla": {"due_at": None, "started": False, "at_risk": False, "breached": False, "stopped": False},
        "recontact_of": None,
        "recontacted": [],
        "erased": None,
        "dead_letters": 0,
    }
    for record in own:
        if record.get("tenant") and head["tenant"] is None and record["stage"] != "erased":
            head["tenant"] = record["tenant"]
        if record.get("locale") and head["locale"] is None and record["stage"] not in ("intake", "erased"):
            head["locale"] = record["locale"]
        conv = record.get("conversation")
        if conv is not None:
            customer = conv.get("customer") or {}
            _fill(head, source=conv.get("source"), external_id=conv.get("external_id"), channel=conv.get("channel"),
                  customer_id=customer.get("customer_id"), key_id=(conv.get("original") or {}).get("key_id"),
                  received_at=conv.get("received_at"))
    for record in own:
        ref = record.get("conversation_ref")
        if ref is not None:  # only fills what a received record did not
            _fill(head, source=ref.get("source"), external_id=ref.get("external_id"), channel=ref.get("channel"),
                  customer_id=ref.get("customer_id"), key_id=ref.get("key_id"), received_at=ref.get("received_at"))

    for record in steps:
        stage = record["stage"]
        if stage == "recontact":
            if record.get("conversation_id") == conversation_id:
                summary["recontact_of"] = record.get("original_conversation_id")
            elif record.get("original_conversation_id") == conversation_id:
                summary["recontacted"].append(
                    {"conversation_id": record["conversation_id"], "at": record["occurred_at"],
                     "answered_by": record.get("answered_by"), "window_days": record.get("window_days")}
                )
            continue
        if record["event_id"] not in own_ids and stage != "deadletter":
            continue
        versions = record.get("versions") or {}
        if stage == "triaged":
            triage = record["triage"]
            summary.update(intent=triage.get("intent"), intent_confidence=triage.get("intent_confidence"),
                           category=triage.get("category"), priority=triage.get("priority"),
                           triage_model=versions.get("model"))
        elif stage == "drafted":
            draft = record["draft"]
            summary.update(
                draft_outcome=draft.get("outcome"), draft_confidence=draft.get("confidence"),
                draft_id=draft.get("draft_id"),
                retrieved=[{"clause": f"{c['clause_id']}@{c['kb_version']}", "score": c.get("score"),
                            "classifier_probability": c.get("classifier_probability", 0.0)}
                           for c in draft.get("retrieved") or ()],
                citations=[f"{c['clause_id']}@{c['kb_version']}" for c in draft.get("citations") or ()],
                draft_model=versions.get("model"), prompt_version=versions.get("prompt"),
                kb_version=versions.get("knowledge_base"),
            )
            if summary["category"] is None and record.get("triage_ref"):
                summary.update(intent=record["triage_ref"].get("intent"), category=record["triage_ref"].get("category"))
        elif stage == "verified":
            verification = record["verification"]
            checks = verification.get("checks") or []
            summary.update(verdict=verification.get("verdict"), threshold=verification.get("threshold"),
                           checks=[{"name": c["name"], "passed": c["passed"]} for c in checks],
                           failed_checks=sorted({c["name"] for c in checks if not c["passed"]}))
        elif stage == "routed":
            summary.update(mode=record.get("mode"), action=record.get("action"), rule=record.get("rule"),
                           queue=record.get("queue"), policy_version=versions.get("policy"),
                           routed_at=record.get("occurred_at"))
            if summary["category"] is None and record.get("triage_ref"):
                summary.update(intent=record["triage_ref"].get("intent"), category=record["triage_ref"].get("category"))
        elif stage == "sent":
            if record.get("kind", "answer") != "answer":
                summary["acknowledged"] = True
            elif not summary["sent"]:
                summary.update(sent=True, sent_by=record.get("sent_by"), sent_at=record.get("occurred_at"),
                               sent_citations=list(record.get("citations") or ()))
        elif stage == "delivered":
            _fold_receipt(summary, record)
        elif stage == "feedback":
            summary["feedback"] = record.get("action")
            if record.get("corrected_intent"):
                summary["corrected_intent"] = record["corrected_intent"]
        elif stage == "sla":
            kind = record.get("kind")
            sla = summary["sla"]
            sla["due_at"] = record.get("due_at") or sla["due_at"]
            if kind in ("started", "at_risk", "breached", "stopped"):
                sla["at_risk" if kind == "at_risk" else kind] = True
        elif stage == "erased":
            summary["erased"] = {"at": record["occurred_at"], "by": record.get("requested_by"),
                                 "key_id": record.get("key_id"), "reason": record.get("reason")}
        elif stage == "deadletter":
            summary["dead_letters"] += 1

    gaps = _gaps(conversation_id, steps, by_event, own)
    times = [r["occurred_at"] for r in own if r.get("occurred_at")]
    return {
        **head,
        "started_at": min(times) if times else None,
        "last_event_at": max(times) if times else None,
        "complete": not gaps,
        "gaps": gaps,
        "summary": summary,
        "steps": [_step(r, by_event) for r in steps],
    }


def _fold_receipt(summary: dict, record: dict) -> None:
    outcome = record.get("outcome")
    if outcome in summary["deliveries"]:
        summary["deliveries"][outcome] += 1
    if outcome != "delivered" or record.get("effect") != "public_reply":
        return
    seen = record.get("delivered_at") or record.get("occurred_at")
    if seen and (summary["first_response_at"] is None or seen < summary["first_response_at"]):
        summary["first_response_at"] = seen
    if record.get("reply_kind") == "answer" and not summary["answer_delivered"]:
        summary.update(answer_delivered=True, answer_delivered_by=(record.get("sent_by") or "bot").split(":", 1)[0])


def _fill(head: dict, **values: Optional[str]) -> None:
    for key, value in values.items():
        if head.get(key) is None and value is not None:
            head[key] = value


def _step(record: dict, by_event: dict[str, dict]) -> dict:
    cause = by_event.get(record.get("causation_id") or "")
    return {"stage": record["stage"], "caused_by_stage": cause["stage"] if cause else None, "record": record}


def _gaps(conversation_id: str, steps: list[dict], by_event: dict[str, dict], own: list[dict]) -> list[str]:
    gaps: list[str] = []
    stages = {r["stage"] for r in own}
    routed = [r for r in own if r["stage"] == "routed"]
    for stage in REQUIRED_STAGES:
        if stage in stages:
            continue
        # A router decision without a draft (spam dropped, no grounding escalated
        # straight from triage) is a complete lineage, not a gap.
        if stage in ("drafted", "verified") and routed and all(r.get("draft_id") is None for r in routed):
            continue
        if stage == "verified" and _draft_not_verifiable(own):
            continue
        gaps.append(f"missing stage: {stage}")
    for record in own:
        cause = record.get("causation_id")
        if not cause or cause in by_event or record["stage"] in ROOT_STAGES:
            continue
        gaps.append(f"{record['stage']} {record['event_id']}: cause {cause} not in the log")
    return gaps


def _draft_not_verifiable(own: list[dict]) -> bool:
    drafts = [r for r in own if r["stage"] == "drafted"]
    return bool(drafts) and all(r["draft"].get("outcome") != "drafted" for r in drafts)


def render_text(lineage: dict) -> str:
    """A lineage as an auditor reads it in a terminal."""
    s = lineage["summary"]
    lines = [
        f"conversation {lineage['conversation_id']}  tenant={lineage['tenant']}  locale={lineage['locale']}",
        f"  source={lineage['source']} external_id={lineage['external_id']} channel={lineage['channel']}"
        f" customer={lineage['customer_id']}",
        f"  lineage {'complete' if lineage['complete'] else 'INCOMPLETE'}"
        + ("".join(f"\n    gap: {g}" for g in lineage["gaps"])),
        "",
    ]
    for step in lineage["steps"]:
        r = step["record"]
        producer = r.get("producer") or {}
        who = f"{producer.get('service', '?')}@{producer.get('version', '?')}" if producer else "-"
        cause = f" <- {step['caused_by_stage']}" if step["caused_by_stage"] else ""
        lines.append(f"{r.get('occurred_at', ''):<25} {step['stage']:<12} {who:<22}{cause}")
        lines.extend("      " + d for d in _details(r))
    lines += [
        "",
        f"decision: mode={s['mode']} action={s['action']} rule={s['rule']} queue={s['queue']} verdict={s['verdict']}",
        f"versions: triage_model={s['triage_model']} draft_model={s['draft_model']} prompt={s['prompt_version']}"
        f" kb={s['kb_version']} policy={s['policy_version']}",
    ]
    if s["erased"]:
        lines.append(f"personal data erased at {s['erased']['at']} by {s['erased']['by']} (key {s['erased']['key_id']})")
    return "\n".join(lines)


def _details(r: dict) -> list[str]:
    stage = r["stage"]
    v = r.get("versions") or {}
    if stage == "received":
        conv = r["conversation"]
        n = len(conv.get("messages") or ())
        sealed = "sealed original kept" if conv.get("original") else "no original kept"
        redactions = ", ".join(f"{x['kind']}x{x['count']}" for x in conv.get("redactions") or ()) or "none"
        return [f"{n} message(s), redactions: {redactions}, {sealed}"]
    if stage == "triaged":
        t = r["triage"]
        alts = ", ".join(f"{a['intent']}={a['confidence']:.2f}" for a in t.get("alternatives") or ())
        return [f"intent={t['intent']} ({t['intent_confidence']:.2f}) category={t['category']} urgency={t.get('urgency')}"
                f" sentiment={t.get('sentiment')} model={v.get('model')}", f"alternatives: {alts or '-'}"]
    if stage == "drafted":
        d = r["draft"]
        out = [f"outcome={d['outcome']} confidence={d.get('confidence')} model={v.get('model')} prompt={v.get('prompt')}"
               f" kb={v.get('knowledge_base')}"]
        out += [f"retrieved {c['clause_id']}@{c['kb_version']} score={c['score']:.3f}"
                f" classifier={c.get('classifier_probability', 0.0):.3f}" for c in d.get("retrieved") or ()]
        out += [f"cites {c['clause_id']}@{c['kb_version']}: {c.get('sentence', '')}" for c in d.get("citations") or ()]
        return out
    if stage == "verified":
        ver = r["verification"]
        return [f"verdict={ver['verdict']} threshold={ver.get('threshold')}"] + [
            f"{'pass' if c['passed'] else 'FAIL'} {c['name']}{': ' + c['detail'] if c.get('detail') else ''}"
            for c in ver.get("checks") or ()
        ]
    if stage == "routed":
        return [f"mode={r.get('mode')} action={r.get('action')} rule={r.get('rule')} queue={r.get('queue')}"
                f" priority={r.get('priority')} policy={v.get('policy')}", f"reason: {r.get('reason', '')}"]
    if stage == "sent":
        return [f"{r.get('kind', 'answer')} sent_by={r.get('sent_by')} channel={r.get('channel')} citations={r.get('citations')}"]
    if stage == "delivered":
        return [f"{r.get('outcome')} {r.get('effect')} on {r.get('platform')} {r.get('external_id')}"
                f" id={r.get('platform_id')} attempts={r.get('attempts')} latency_ms={r.get('latency_ms')}"
                + (" (found after a crash, not posted again)" if r.get("recovered") else "")
                + (f" reason: {r.get('reason')}" if r.get("reason") else "")]
    if stage == "feedback":
        return [f"agent={r.get('agent_id')} action={r.get('action')} reason={r.get('reason')}"
                f" corrected_intent={r.get('corrected_intent')}"]
    if stage == "sla":
        return [f"{r.get('kind')} due={r.get('due_at')} fraction={r.get('fraction')} queue={r.get('queue')}"]
    if stage == "recontact":
        return [f"conversation {r['conversation_id']} re-contacts {r.get('original_conversation_id')}"
                f" (answered by {r.get('answered_by')})"]
    if stage == "erased":
        return [f"key {r.get('key_id')} destroyed, requested by {r.get('requested_by')}"]
    if stage == "deadletter":
        return [f"{r.get('reason_code')}: {r.get('reason')} ({r.get('source_topic')}#{r.get('source_offset')})"]
    if stage == "intake":
        return [f"source={r.get('source')} external_id={r.get('external_id')}"]
    return []
