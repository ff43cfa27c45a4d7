"""Throughput of the per-ticket path, measured on one core (``casetrail bench ingest``).

Tickets are the realistic fixtures of every connector (tests/unit/ingest/fixtures)
with fresh external ids, cycled. Three figures, each single-threaded, timed in process CPU time (the machine is shared,
so wall time would measure the neighbours):

* normalisation + redaction (connector, HTML/e-mail parsing, reply stripping,
  PII detection and placeholders, event construction) - the goal figure;
* locale detection alone (lingua), on the same tickets' customer text;
* sealing originals under per-customer keys (SQLite key store, AES-256-GCM).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Callable

from services.ingest.normalise import IntakeRecord, Normaliser

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "unit" / "ingest" / "fixtures"
SOURCES = {
    "zendesk_ticket_api.json": "zendesk", "zendesk_event_comment_added.json": "zendesk",
    "intercom_conversation_user_replied.json": "intercom", "freshdesk_ticket.json": "freshdesk",
    "freshdesk_webhook.json": "freshdesk", "servicenow_incident.json": "servicenow",
    "generic_chat.json": "generic", "email_html_reply_fr.eml": "email", "email_plain_lt_iso8859-13.eml": "email",
}


def sample_records(count: int) -> list[IntakeRecord]:
    payloads = [(source, (FIXTURES / name).read_bytes()) for name, source in SOURCES.items()]
    records = []
    for i in range(count):
        source, payload = payloads[i % len(payloads)]
        if source == "email":
            payload = payload.replace(b"Message-ID: <", f"Message-ID: <b{i}.".encode(), 1)
        else:
            doc = json.loads(payload)
            text = json.dumps(doc, ensure_ascii=False).replace('"updated_at": "2025', f'"updated_at": "{2025 + i % 3}')
            payload = text.encode()
        records.append(IntakeRecord(tenant="bench", source=source, payload=payload))
    return records


def run(tickets: int = 5000, progress: Callable[[str], None] = print) -> dict:
    records = sample_records(tickets)
    normaliser = Normaliser(detect_locale=False)
    for record in records[:50]:  # warm caches (regexes, name patterns)
        normaliser.normalise(record)
    progress(f"normalising + redacting {tickets} tickets ...")
    started = time.process_time()
    results = [normaliser.normalise(record) for record in records]
    normalise_seconds = time.process_time() - started

    from services.ingest.locale_detection import LocaleDetector

    detector = LocaleDetector()
    loaded = time.process_time()
    detector.warm_up()
    texts = [r.event.conversation.latest_customer_text() for r in results]
    for text in texts[:20]:
        detector.detect(text)  # lingua loads each language model on first use
    load_seconds = time.process_time() - loaded
    progress(f"detecting the locale of {tickets} tickets ...")
    started = time.process_time()
    for text in texts:
        detector.detect(text)
    locale_seconds = time.process_time() - started

    from casetrail.privacy.keystore import KeyStore

    seal_count = min(tickets, 2000)
    with tempfile.TemporaryDirectory() as folder:
        store = KeyStore(Path(folder) / "keys.sqlite")
        progress(f"sealing {seal_count} originals ...")
        started = time.process_time()
        for i in range(seal_count):
            store.seal("bench", f"customer-{i % 500}", texts[i])
        seal_seconds = time.process_time() - started
        store.close()
    return {
        "tickets": tickets,
        "normalise_redact_tickets_per_s_per_core": round(tickets / normalise_seconds, 1),
        "normalise_redact_ms_per_ticket": round(normalise_seconds / tickets * 1000, 3),
        "locale_detection_tickets_per_s_per_core": round(tickets / locale_seconds, 1),
        "locale_detection_ms_per_ticket": round(locale_seconds / tickets * 1000, 3),
        "locale_model_load_s": round(load_seconds, 2),
        "seal_originals_per_s": round(seal_count / seal_seconds, 1),
        "full_path_tickets_per_s_per_core": round(1 / (normalise_seconds / tickets + locale_seconds / tickets + seal_seconds / seal_count), 1),
    }
