"""Personal data: the reply may name the customer's data only through the typed
placeholders the tenant allows (``[NAME_1]``, ``[ORDER_1]``); anything the
detector finds in clear text, or a placeholder of a kind the policy does not
allow (``[IBAN_1]``), fails. Details name kinds and counts, never the values."""

from __future__ import annotations

import re
from collections import Counter
from typing import Optional

from services.verifier.checks import FAILED, Outcome, PiiDetector
from services.verifier.review import DraftUnderReview
from casetrail.grounding.sentences import CITATION_MARKER, PLACEHOLDER

NAME_ATTRIBUTES = ("name", "first_name", "last_name", "full_name", "display_name")


class PersonalData:
    name = "personal_data"
    severity = FAILED

    def __init__(self, policy, pii_detector: Optional[PiiDetector] = None, **_):
        if pii_detector is None:
            from casetrail.privacy.pii import detect as pii_detector
        self.detect = pii_detector
        self.allowed = {kind.upper() for kind in policy.allowed_placeholders}
        public = [*policy.verifier.public_names, re.sub(r"[-_]+", " ", policy.tenant)]
        self.public_names = {name.casefold().strip() for name in public if name.strip()}

    def run(self, review: DraftUnderReview) -> Outcome:
        text = review.draft.reply_text
        problems: list[str] = []
        bad_placeholders = Counter(m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1) not in self.allowed)
        for kind, count in sorted(bad_placeholders.items()):
            problems.append(f"placeholder kind {kind} not allowed by policy ({count}x)")

        # Mask markers and placeholders (same length, so positions hold) before detection.
        masked = CITATION_MARKER.sub(lambda m: " " * len(m.group(0)), text)
        masked = PLACEHOLDER.sub(lambda m: " " * len(m.group(0)), masked)
        attributes = review.event.conversation.customer.attributes
        known_names = tuple(v for k, v in attributes.items() if k in NAME_ATTRIBUTES and v)
        published = " ".join(c.text for c in review.draft.retrieved)  # the tenant's own published data is not a leak
        leaked = Counter()
        for finding in self.detect(masked, review.locale, known_names):
            value = masked[finding.start:finding.end]
            if value.strip() and (value in published or value.casefold().strip() in self.public_names):
                continue
            leaked[str(getattr(finding.kind, "value", finding.kind))] += 1
        for kind, count in sorted(leaked.items()):
            problems.append(f"{kind} in clear text ({count}x)")
        if problems:
            return Outcome(False, "; ".join(problems))
        used = sorted({m.group(1) for m in PLACEHOLDER.finditer(text)})
        return Outcome(True, f"no personal data in clear text; placeholders used: {', '.join(used) or 'none'}")
