"""The tenant's evaluation examples as ``casetrail eval decisions`` tickets (what the gate reads).

Each row is a ticket line (``id``, ``text``, ``subject``, ``locale``,
``expected``) plus ``correction``: the agent's label and what casetrail had
predicted, and ``rejected_draft``: the text of a draft the agent rejected (None
otherwise; the gate's wording rule for reply templates reads it). Text is opened with the customer's key; an erased customer's
example cannot be opened and is left out.
"""

from __future__ import annotations

import json
from typing import Any, Optional

from services.review.cases import sealed_from_view
from services.review.store import ReviewStore


def expected_of(labels: dict) -> dict:
    """What the agent's verdict says the right outcome is, in the ticket file's ``expected`` terms."""
    label, reason = labels["label"], labels.get("reason")
    if label in ("approve", "edit"):
        return {"category": labels["predicted_category"], "locale": None}
    if reason == "wrong_intent" and labels.get("corrected_intent"):
        return {"category": labels["corrected_intent"]}
    if reason == "wrong_intent":
        return {}
    return {"category": labels["predicted_category"]}


def export_examples(store: ReviewStore, keystore: Any, tenant: str,
                    locale: Optional[str] = None) -> tuple[list[dict], int]:
    rows, skipped = [], 0
    for example in store.examples(tenant, locale):
        if not example["sealed_text"]:
            skipped += 1
            continue
        try:
            text = json.loads(keystore.open(sealed_from_view(json.loads(example["sealed_text"]))))
        except Exception:  # noqa: BLE001 - erased (KeyErased) or unreadable: not part of the set
            skipped += 1
            continue
        labels = example["body"]
        expected = {k: v for k, v in expected_of(labels).items() if v is not None}
        expected["locale"] = example["locale"]
        rows.append({"id": f"agent-{example['example_id']}", "text": text["ticket"], "subject": text.get("subject"),
                     "locale": example["locale"], "source": "generic", "expected": expected, "correction": labels,
                     "rejected_draft": text.get("rejected_draft")})
    return rows, skipped
