"""Property-based fuzzing of every connector, the e-mail parser and HTML handling (issue 17).

For every generated input: no crash (the only exception allowed is ``Rejected``), every rejection
has a known reason code and a reason, and no input needs more than the per-record budget
(a ``too_expensive`` rejection fails the property: the linear algorithms must keep every input
well inside it). ``make test`` runs a short pass; ``make fuzz`` runs 100,000 inputs per connector
(``CASETRAIL_FUZZ_EXAMPLES``; each input Hypothesis draws is followed by
``CASETRAIL_FUZZ_VARIANTS`` cheap mutations of it, all counted and all checked) and writes counts and the slowest input's CPU time to
``var/fuzz/<target>.json``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fuzz_inputs import JSON_SOURCES, email_payloads, html_documents, json_payloads, variants
from services.ingest import html_text
from services.ingest.budget import Budget, DEFAULT_BUDGET_SECONDS, active
from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.rejections import REASON_CODES, TOO_EXPENSIVE, Rejected

EXAMPLES = int(os.environ.get("CASETRAIL_FUZZ_EXAMPLES", "600"))  # inputs per target
VARIANTS = int(os.environ.get("CASETRAIL_FUZZ_VARIANTS", "9"))  # cheap variants derived from each drawn input
DRAWS = max(1, EXAMPLES // (VARIANTS + 1))
REPORT_DIR = os.environ.get("CASETRAIL_FUZZ_REPORT")
FUZZ_SETTINGS = settings(
    max_examples=DRAWS, deadline=None, database=None, derandomize=EXAMPLES < 10_000,
    suppress_health_check=list(HealthCheck),
    # No shrinking: a failing input is reported as found (shrinking a 1 MiB payload can take hours).
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
NORMALISER = Normaliser(detect_locale=False)


class Tally:
    def __init__(self, target: str):
        self.target = target
        self.inputs = self.accepted = 0
        self.rejected: dict[str, int] = {}
        self.max_cpu = 0.0
        self.max_bytes = 0

    def write(self) -> None:
        if not REPORT_DIR:
            return
        Path(REPORT_DIR).mkdir(parents=True, exist_ok=True)
        Path(REPORT_DIR, f"{self.target}.json").write_text(json.dumps({
            "target": self.target, "inputs": self.inputs, "accepted": self.accepted, "rejected": self.rejected,
            "max_cpu_seconds": round(self.max_cpu, 4), "largest_input_bytes": self.max_bytes,
            "budget_seconds": DEFAULT_BUDGET_SECONDS}, indent=2) + "\n")


def _keep(tally: Tally, payload, folder_name: str = "failures") -> None:
    """Failing (or slow) inputs are written under the report folder, to replay them."""
    if REPORT_DIR and payload is not None:
        folder = Path(REPORT_DIR, folder_name)
        folder.mkdir(parents=True, exist_ok=True)
        data = payload if isinstance(payload, bytes) else str(payload).encode("utf-8", "surrogatepass")
        Path(folder, f"{tally.target}-{tally.inputs}.bin").write_bytes(data)


def _handled(tally: Tally, call, payload=None) -> None:
    started = time.thread_time()
    try:
        call()
        tally.accepted += 1
    except Rejected as rejected:
        if rejected.reason_code == TOO_EXPENSIVE or rejected.reason_code not in REASON_CODES:
            _keep(tally, payload)
        assert rejected.reason_code in REASON_CODES, rejected.reason_code
        assert rejected.reason_code != TOO_EXPENSIVE, rejected.reason
        assert rejected.reason.strip(), "a rejection without a reason"
        tally.rejected[rejected.reason_code] = tally.rejected.get(rejected.reason_code, 0) + 1
    except BaseException:
        _keep(tally, payload)
        raise
    finally:
        spent = time.thread_time() - started
        if spent > DEFAULT_BUDGET_SECONDS / 4 and spent > tally.max_cpu:
            _keep(tally, payload, "slow")  # the slowest inputs so far, to see what costs (a 100k run met 1.85 s)
        tally.inputs += 1
        tally.max_cpu = max(tally.max_cpu, spent)


@pytest.mark.parametrize("source", [*JSON_SOURCES, "email"])
def test_connector_never_crashes_and_stays_in_budget(source):
    tally = Tally(source)
    strategy = email_payloads() if source == "email" else json_payloads(source)
    content_type = "message/rfc822" if source == "email" else "application/json"

    @FUZZ_SETTINGS
    @given(strategy, st.integers(min_value=0, max_value=2**32))
    def property_(payload: bytes, seed: int):
        for candidate in (payload, *variants(seed, payload, VARIANTS, structured=source != "email")):
            tally.max_bytes = max(tally.max_bytes, len(candidate))
            record = IntakeRecord(tenant="fuzz", source=source, payload=candidate, content_type=content_type)
            _handled(tally, lambda: NORMALISER.normalise(record), candidate)

    property_()
    tally.write()
    assert tally.inputs >= DRAWS * (VARIANTS + 1)


def test_html_handling_never_crashes_and_stays_in_budget():
    tally = Tally("html")

    @FUZZ_SETTINGS
    @given(html_documents(), st.integers(min_value=0, max_value=2**32))
    def property_(document: str, seed: int):
        raw = document.encode("utf-8", "surrogatepass")
        for candidate in (raw, *variants(seed, raw, VARIANTS, structured=False)):
            markup = candidate.decode("utf-8", "replace")
            tally.max_bytes = max(tally.max_bytes, len(candidate))

            def convert():
                with active(Budget()):
                    html_text.html_to_text(markup)
            _handled(tally, convert, candidate)

    property_()
    tally.write()
    assert tally.inputs >= DRAWS * (VARIANTS + 1)


def test_locale_detection_path_on_generated_text():
    # The full normaliser (lingua locale detection included) on fewer inputs: it is the slowest step.
    normaliser = Normaliser()
    # As ingest's app does at start: loading lingua's models (seconds) is not the first record's cost.
    normaliser.locale_detector.warm_up()
    tally = Tally("generic_with_locale")

    @settings(FUZZ_SETTINGS, max_examples=max(20, EXAMPLES // 100))
    @given(st.text(max_size=3000))
    def property_(text: str):
        payload = json.dumps({"external_id": "T", "customer": {"id": "c"},
                              "messages": [{"sent_at": "2025-01-01T00:00:00Z", "text": text}]}).encode()
        _handled(tally, lambda: normaliser.normalise(IntakeRecord(tenant="fuzz", source="generic", payload=payload)))

    property_()
    tally.write()
