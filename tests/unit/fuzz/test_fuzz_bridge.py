"""Property-based fuzzing of the webhook bridge's signature checks (issue 17: "... and the bridge").

Every request the internet can send reaches ``Verifier.verify`` first: for any headers (any
text, non-ASCII included, any casing) and any body, it returns the tenant whose secret signed
the body or raises ``SignatureError`` with a reason (the bridge's 401), never anything else
(that was a 500). Correctly signed requests, then mutated, check the other direction: an
unchanged signed request is accepted for its own tenant, a changed body never is.
Counts go to ``<report>/bridge.json`` like the connectors' (``make fuzz``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from services.ingest.budget import DEFAULT_BUDGET_SECONDS
from services.ingest.signatures import (
    SIGNATURE_HEADER, TOKEN_HEADER, SignatureError, Verifier, WebhookSecret, casetrail_signature,
    intercom_signature, zendesk_signature,
)

EXAMPLES = int(os.environ.get("CASETRAIL_FUZZ_EXAMPLES", "600"))
REPORT_DIR = os.environ.get("CASETRAIL_FUZZ_REPORT")
NOW = 1_760_000_000.0
SOURCES = ("zendesk", "intercom", "freshdesk", "servicenow", "email", "generic")
SECRETS = [WebhookSecret(tenant, source, f"{tenant}-{source}-secret") for tenant in ("acme", "globex") for source in SOURCES]
SECRETS.append(WebhookSecret("initech", "freshdesk", "initech-static-token", scheme="token"))
HEADER_NAMES = ("X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp", "X-Hub-Signature",
                SIGNATURE_HEADER, TOKEN_HEADER, "Content-Type")


def _signed(source: str, tenant: str, body: bytes, sent: int) -> dict[str, str]:
    secret = f"{tenant}-{source}-secret"
    if source == "zendesk":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sent))
        return {"X-Zendesk-Webhook-Signature": zendesk_signature(secret, stamp, body),
                "X-Zendesk-Webhook-Signature-Timestamp": stamp}
    if source == "intercom":
        return {"X-Hub-Signature": intercom_signature(secret, body)}
    return {SIGNATURE_HEADER: casetrail_signature(secret, sent, body)}


def _body(source: str, sent: int, text: str) -> bytes:
    if source == "intercom":  # Intercom's freshness and nonce come from the signed notification
        return json.dumps({"type": "notification_event", "id": f"notif_{abs(hash(text)) % 10**9}",
                           "created_at": sent, "data": {"item": {"body": text}}}).encode()
    return json.dumps({"id": 1, "text": text}).encode()


header_values = st.one_of(st.text(max_size=200), st.sampled_from(["", " ", "t=1,v1=", "sha1=", "t=9" * 30, "é"]),
                          st.from_regex(r"t=\d{1,14},v1=[0-9a-f]{0,64}", fullmatch=True))
random_headers = st.dictionaries(st.one_of(st.sampled_from(HEADER_NAMES), st.sampled_from(HEADER_NAMES).map(str.upper),
                                           st.text(min_size=1, max_size=20)), header_values, max_size=6)


def test_the_bridge_answers_every_request_with_a_tenant_or_a_reason():
    verifier = Verifier(SECRETS, clock=lambda: NOW)
    for source in SOURCES:  # the first call imports the timestamp parser: not an input's cost
        body = _body(source, int(NOW), "warm-up")
        verifier.verify(source, _signed(source, "acme", body, int(NOW)), body)
    # The shape of the connectors' reports (the make fuzz summary reads every report alike).
    tally = {"target": "bridge", "inputs": 0, "accepted": 0, "rejected": {"signature": 0}, "max_cpu_seconds": 0.0,
             "budget_seconds": DEFAULT_BUDGET_SECONDS}

    @settings(max_examples=max(1, EXAMPLES // 2), deadline=None, database=None, derandomize=EXAMPLES < 10_000,
              suppress_health_check=list(HealthCheck), phases=(Phase.explicit, Phase.reuse, Phase.generate))
    @given(st.sampled_from(SOURCES), st.sampled_from(["acme", "globex"]), st.text(max_size=300),
           st.integers(min_value=-400, max_value=400), random_headers, st.binary(max_size=400),
           st.sampled_from([None, "", "acme", "globex", "initech", "nobody"]))
    def property_(source, tenant, text, skew, noise, raw_body, hint):
        sent = int(NOW) + skew
        body = _body(source, sent, text)
        signed = _signed(source, tenant, body, sent)
        cases = [(signed, body, "signed"), ({**signed, **noise}, body, "noisy"), (signed, body + b" ", "changed"),
                 (noise, raw_body, "random")]
        for headers, payload, kind in cases:
            tally["inputs"] += 1
            started = time.thread_time()
            try:
                verified = verifier.verify(source, headers, payload, hint)
            except SignatureError as refused:
                assert str(refused).strip(), "a refusal without a reason"
                tally["rejected"]["signature"] += 1
                continue
            finally:
                tally["max_cpu_seconds"] = round(max(tally["max_cpu_seconds"], time.thread_time() - started), 4)
            tally["accepted"] += 1
            assert kind != "changed", "a body changed after signing was accepted"
            assert verified.tenant in ("acme", "globex", "initech")
            if kind == "signed":
                assert verified.tenant == tenant  # the signature decides the tenant, never the hint
        # Freshly signed, untouched and in the window: accepted for its own tenant unless the hint names another.
        if abs(skew) <= 300 and hint in (None, "", tenant):
            assert verifier.verify(source, signed, body, hint).tenant == tenant

    property_()
    if REPORT_DIR:
        Path(REPORT_DIR).mkdir(parents=True, exist_ok=True)
        Path(REPORT_DIR, "bridge.json").write_text(json.dumps(tally, indent=2) + "\n")
    assert tally["accepted"] > 0 and tally["rejected"]["signature"] > 0
