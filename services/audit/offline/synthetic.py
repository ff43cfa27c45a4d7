"""Generated event logs: every event type, for whole conversations (bench and tests).

Events are built as plain dicts in the shape of the Avro schemas (the unit
tests check each one validates as its pydantic model), because building a
million pydantic models would make generating the benchmark log slower than
replaying it.

A conversation goes received → triaged → drafted → verified → routed and then,
depending on its category's mode, is sent by the bot (autonomous), approved /
edited / rejected by an agent and sent (assist), or only drafted (shadow);
SLA started → stopped (or at-risk → breached); some customers come back
within 7 days (a re-contact of the first conversation); a few records are
dead letters. Texts are short redacted placeholders, no real personal data.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Iterator, Optional

CATEGORIES = (
    ("order_status", "autonomous", "where_is_my_order"),
    ("return_request", "autonomous", "return_request"),
    ("place_order", "autonomous", "place_order"),
    ("payment_issue", "assist", "payment_failed"),
    ("invoice", "autonomous", "invoice"),
    ("feedback", "assist", "feedback"),
    ("fraud_report", "assist", "fraud_report"),
)
LOCALES = ("en", "de", "fr", "es", "lt")
KB_VERSION = "2026.11+ab12cd34"
CHECKS = ("citations_resolve", "numbers_match_clause", "confidence_threshold", "policy_rules",
          "prompt_injection", "personal_data_leak", "ai_disclosure", "reply_language")


def _producer(service: str) -> dict:
    return {"service": service, "version": "0.1.0"}


def _versions(model: Optional[str] = None, prompt: Optional[str] = None, kb: Optional[str] = None,
              policy: Optional[str] = None) -> dict:
    return {"model": model, "prompt": prompt, "knowledge_base": kb, "policy": policy}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def conversation_events(
    rng: random.Random,
    tenant: str,
    start: dt.datetime,
    *,
    customer_id: Optional[str] = None,
    key_id: Optional[str] = None,
    sealed: Optional[dict] = None,
    recontact_of: Optional[str] = None,
    embedding_dim: int = 0,
    conversation_id: Optional[str] = None,
) -> list[tuple[str, dict]]:
    """Every event of one conversation, in pipeline order (``(event type, record dict)``)."""
    cid = conversation_id or _uuid(rng)
    locale = rng.choice(LOCALES)
    category, mode, intent = rng.choice(CATEGORIES)
    customer_id = customer_id or f"cust-{rng.randrange(10**6):06d}"
    ms = dt.timedelta(milliseconds=1)
    t = start.replace(microsecond=(start.microsecond // 1000) * 1000)
    original = sealed or {
        "key_id": key_id or f"key-{customer_id}",
        "algorithm": "AES-256-GCM",
        "nonce": rng.randbytes(12),
        "ciphertext": rng.randbytes(96),
    }
    conversation = {
        "source": "zendesk",
        "external_id": f"zd-{rng.randrange(10**9)}",
        "channel": "email",
        "subject": "Question about order [ORDER_1]",
        "messages": [
            {"message_id": f"m-{cid[:8]}-1", "author_role": "customer", "author_id": "[EMAIL_1]", "sent_at": t,
             "body_text": "Hello, where is my order [ORDER_1]? I paid on Monday. Regards, [NAME_1]", "attachments": []},
        ],
        "customer": {"customer_id": customer_id, "tier": rng.choice(("default", "enterprise", "platinum")),
                     "lifetime_value": None, "region": "EU", "timezone": "Europe/Vilnius", "attributes": {}},
        "source_priority": None,
        "tags": ["web"],
        "received_at": t,
        "locale_status": "detected",
        "locale_confidence": 0.97,
        "redactions": [{"kind": "EMAIL", "count": 1}, {"kind": "NAME", "count": 1}, {"kind": "ORDER", "count": 1}],
        "original": original,
        "content_hash": f"{rng.getrandbits(64):016x}",
    }

    def env(service: str, cause: Optional[str], at: dt.datetime) -> dict:
        return {"event_id": _uuid(rng), "conversation_id": cid, "causation_id": cause, "tenant": tenant,
                "locale": locale, "occurred_at": at, "producer": _producer(service)}

    intake = {"event_id": _uuid(rng), "tenant": tenant, "source": conversation["source"],
              "content_type": "application/json", "payload": b'{"ticket": {"id": "' + conversation["external_id"].encode()
              + b'", "description": "Hello, where is my order 12345? jane@example.com"}}',
              "external_id": conversation["external_id"], "received_at": t - 5 * ms, "attributes": {}}
    out: list[tuple[str, dict]] = [("IntakeTicket", intake)]
    received = {**env("ingest", intake["event_id"], t), "conversation": conversation}
    out.append(("ConversationReceived", received))
    if recontact_of is not None:
        out.append(("RecontactDetected", {**env("ingest", received["event_id"], t + ms),
                                          "original_conversation_id": recontact_of, "answered_by": "bot",
                                          "answered_at": t - dt.timedelta(days=2), "window_days": 7}))
    confidence = round(rng.uniform(0.55, 0.99), 3)
    triage = {
        "intent": intent, "intent_confidence": confidence, "out_of_scope": False,
        "alternatives": [{"intent": "other", "confidence": round(1 - confidence, 3)}],
        "category": category, "urgency": "normal", "priority": "normal", "sentiment": round(rng.uniform(-1, 1), 2),
        "frustration": 0.1, "language": locale, "spam": False, "abuse": False, "duplicate_of": None, "vip": False,
        "churn_risk": 0.05, "contacts_in_window": 1, "sla_due_at": t + dt.timedelta(hours=24), "sla_policy": "default/normal",
        "truncated": False, "flags": [], "embedding_model": "hash-384" if embedding_dim else None,
        "embedding": [round(rng.random(), 4) for _ in range(embedding_dim)],
    }
    triaged = {**env("triage", received["event_id"], t + 20 * ms),
               "versions": _versions(model="triage-logreg-2026.11"), "conversation": conversation, "triage": triage}
    out.append(("ConversationTriaged", triaged))
    clause = f"{category}.{rng.randrange(1, 6)}"
    score = round(rng.uniform(0.6, 0.95), 3)
    draft = {
        "draft_id": f"d-{cid}", "outcome": "drafted",
        "reply_text": "Your order ships within 2 business days [" + clause + "]. This reply was written with AI assistance.",
        "locale": locale, "kb_locale": None, "locale_fallback": False,
        "retrieved": [{"clause_id": clause, "kb_version": KB_VERSION, "locale": locale, "score": score,
                       "title": "Shipping times", "text": "Orders ship within 2 business days.",
                       "classifier_probability": 0.8},
                      {"clause_id": f"{category}.9", "kb_version": KB_VERSION, "locale": locale, "score": score - 0.2,
                       "title": "Other", "text": "Other clause.", "classifier_probability": 0.1}],
        "citations": [{"clause_id": clause, "kb_version": KB_VERSION, "score": score,
                       "sentence": "Your order ships within 2 business days."}],
        "confidence": confidence, "composer": "template", "disclosure": "This reply was written with AI assistance.",
        "reason": None, "alternatives_offered": [],
    }
    drafted = {**env("drafter", triaged["event_id"], t + 60 * ms),
               "versions": _versions(model="template", prompt="reply-v3", kb=KB_VERSION),
               "conversation": conversation, "triage": triage, "draft": draft}
    out.append(("DraftProposed", drafted))
    failed = rng.random() < 0.12
    checks = [{"name": name, "passed": not (failed and name == "numbers_match_clause"),
               "detail": "amount 45 not in clause" if failed and name == "numbers_match_clause" else ""}
              for name in CHECKS]
    verdict = "needs_human" if category == "fraud_report" else ("failed" if failed else "passed")
    verified = {**env("verifier", drafted["event_id"], t + 80 * ms),
                "versions": _versions(model="template", prompt="reply-v3", kb=KB_VERSION, policy="2026.11.1+p"),
                "conversation": conversation, "triage": triage, "draft": draft,
                "verification": {"verdict": verdict, "checks": checks, "threshold": 0.8}}
    out.append(("DraftVerified", verified))
    send = mode == "autonomous" and verdict == "passed" and confidence >= 0.8
    action = "send" if send else ("shadow" if mode == "shadow" else ("escalate" if category == "fraud_report" else "review"))
    rule = "fraud-immediately" if category == "fraud_report" else None
    queue = None if send or mode == "shadow" else ("fraud-team" if rule else "general-support")
    routed = {**env("router", verified["event_id"], t + 100 * ms),
              "versions": _versions(model="template", prompt="reply-v3", kb=KB_VERSION, policy="2026.11.1+p"),
              "mode": mode, "action": action, "rule": rule, "queue": queue, "priority": "normal",
              "reason": "verifier passed and confidence above threshold" if send else "needs a human",
              "inputs": {"category": category, "confidence": str(confidence)}, "triage": triage,
              "draft_id": draft["draft_id"], "reply_text": draft["reply_text"],
              "citations": [f"{clause}@{KB_VERSION}"], "verdict": verdict,
              "brief": None if send else {"summary": "Customer asks where order [ORDER_1] is.", "signals": {"vip": "no"},
                                          "draft_text": draft["reply_text"], "not_sent_because": ["mode is " + mode],
                                          "cited_clauses": [f"{clause}@{KB_VERSION}"], "suggested_actions": [],
                                          "history_ref": ""},
              "intake_at": t}
    out.append(("RoutedDecision", routed))
    out.append(("SlaEvent", {**env("router", routed["event_id"], t + 101 * ms), "kind": "started",
                             "due_at": t + dt.timedelta(hours=24), "fraction": 0.0, "queue": queue}))
    reply_cause, reply_at = routed["event_id"], t + 150 * ms
    sent_by = "bot"
    if action == "review":
        agent = f"agent-{rng.randrange(20)}"
        fb_action = rng.choices(("approve", "edit", "reject"), weights=(7, 2, 1))[0]
        feedback = {**env("review-ui", routed["event_id"], t + dt.timedelta(minutes=rng.randrange(5, 600))),
                    "draft_id": draft["draft_id"], "agent_id": agent, "action": fb_action,
                    "edited_text": "Edited reply [" + clause + "]" if fb_action == "edit" else None,
                    "reason": "wrong amount" if fb_action == "reject" else None,
                    "corrected_intent": "other" if fb_action == "reject" else None}
        out.append(("AgentFeedback", feedback))
        reply_cause, reply_at, sent_by = feedback["event_id"], feedback["occurred_at"] + ms, f"agent:{agent}"
        send = fb_action != "reject"
    if send:
        out.append(("ReplyOutbound", {**env("router", reply_cause, reply_at),
                                      "idempotency_key": f"{cid}:{draft['draft_id']}", "channel": "email",
                                      "source": "zendesk", "external_id": conversation["external_id"],
                                      "body": draft["reply_text"], "draft_id": draft["draft_id"], "sent_by": sent_by,
                                      "citations": [f"{clause}@{KB_VERSION}"]}))
    if rng.random() < 0.05:
        out.append(("SlaEvent", {**env("router", routed["event_id"], t + dt.timedelta(hours=18)), "kind": "at_risk",
                                 "due_at": t + dt.timedelta(hours=24), "fraction": 0.75, "queue": queue}))
        out.append(("SlaEvent", {**env("router", routed["event_id"], t + dt.timedelta(hours=24)), "kind": "breached",
                                 "due_at": t + dt.timedelta(hours=24), "fraction": 1.0, "queue": queue}))
    else:
        out.append(("SlaEvent", {**env("router", reply_cause, reply_at + ms), "kind": "stopped",
                                 "due_at": t + dt.timedelta(hours=24), "fraction": 0.1, "queue": queue}))
    return out


def kb_published(rng: random.Random, tenant: str, locale: str, at: dt.datetime) -> tuple[str, dict]:
    clauses = [f"{cat}.{n}" for cat, _, _ in CATEGORIES for n in (1, 2, 3, 4, 5, 9)]
    return ("KnowledgeBasePublished", {
        "event_id": _uuid(rng), "occurred_at": at, "producer": _producer("knowledge"), "tenant": tenant,
        "locale": locale, "kb_version": KB_VERSION, "content_hash": "ab12cd34", "clause_ids": clauses,
        "collection": f"kb_{tenant}_{locale}",
    })


def event_log(n_events: int, *, tenants: tuple[str, ...] = ("acme-shop", "globex"), seed: int = 7,
              start: Optional[dt.datetime] = None, embedding_dim: int = 0) -> Iterator[tuple[str, dict]]:
    """About ``n_events`` events (whole conversations, so a few more), conversations interleaved in time."""
    rng = random.Random(seed)
    start = start or dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)
    count = 0
    for tenant in tenants:
        for locale in LOCALES:
            yield kb_published(rng, tenant, locale, start - dt.timedelta(days=1))
            count += 1
    previous: dict[str, tuple[str, str]] = {}
    i = 0
    while count < n_events:
        tenant = tenants[i % len(tenants)]
        at = start + dt.timedelta(seconds=30 * i)
        customer = f"cust-{rng.randrange(max(10, n_events // 40)):06d}"
        recontact = None
        if (tenant, customer) in previous and rng.random() < 0.3:
            recontact = previous[(tenant, customer)]
        events = conversation_events(rng, tenant, at, customer_id=customer, recontact_of=recontact,
                                     embedding_dim=embedding_dim)
        previous[(tenant, customer)] = events[1][1]["conversation_id"]
        if rng.random() < 0.005:
            events.append(("DeadLetter", {
                "event_id": _uuid(rng), "occurred_at": at, "producer": _producer("triage"),
                "reason_code": "invalid_event", "reason": "ConversationTriaged fails validation",
                "exception_type": "ValidationError", "source_topic": "drafts.proposed.v1", "source_partition": 0,
                "source_offset": i, "original_key": events[1][1]["conversation_id"].encode(),
                "original_value": b"\xc3\x01garbage", "original_headers": {},
            }))
        for event in events:
            yield event
        count += len(events)
        i += 1
