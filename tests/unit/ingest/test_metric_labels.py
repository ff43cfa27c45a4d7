"""Metric labels come from fixed sets (issue 17: a payload's channel put an e-mail address on /metrics)."""

import json

from prometheus_client import generate_latest

from services.ingest import metrics
from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.processing import IngestProcessor


def test_a_channel_from_the_payload_never_becomes_a_label_value():
    payload = json.dumps({"external_id": "T-9", "channel": "jonas.jonaitis@example.lt",
                          "customer": {"id": "c-9"},
                          "messages": [{"sent_at": "2025-03-03T10:00:00Z", "text": "Where is my parcel?"}]}).encode()
    outcome = IngestProcessor(Normaliser(detect_locale=False), {}, {}).process(
        IntakeRecord(tenant="t", source="generic", payload=payload))
    metrics.count_conversation(outcome.conversation)  # what the service counts once the conversation committed
    exposed = generate_latest().decode()
    assert "jonas.jonaitis" not in exposed
    assert 'casetrail_ingest_conversations_total{channel="other",source="generic"}' in exposed
