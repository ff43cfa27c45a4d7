"""``casetrail ingest check``: what ingest would make of payload files, with no broker.

One result per file, in the shape other tools read (keep it stable):
``{"file", "outcome": "accepted"|"rejected"|"flagged", "reason", "flags": [..], "subject",
"locale", "customer_id", "messages": [{"role", "text"}]}`` - texts as ingest redacts them.
"flagged" means accepted but written by a machine (auto-reply, bounce, list mail,
platform automation): nothing will answer it; ``flags`` names the kind and the signal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.rejections import Rejected


def check_file(normaliser: Normaliser, path: Path, source: str, tenant: str) -> dict:
    result: dict = {"file": str(path), "outcome": "rejected", "reason": None, "flags": [], "subject": None,
                    "locale": None, "customer_id": None, "messages": []}
    content_type = "message/rfc822" if source == "email" else "application/json"
    try:
        normalised = normaliser.normalise(IntakeRecord(tenant=tenant, source=source, payload=path.read_bytes(),
                                                       content_type=content_type))
    except Rejected as rejected:
        result["reason"] = f"{rejected.reason_code}: {rejected.reason}"
        return result
    event = normalised.event
    conversation = event.conversation
    if conversation.automated is not None:
        result["outcome"] = "flagged"
        result["flags"] = [f"automated:{conversation.automated.value}", f"signal:{conversation.automated_signal}"]
        result["reason"] = f"written by a machine ({conversation.automated.value}); nothing answers it"
    else:
        result["outcome"] = "accepted"
    result.update(subject=conversation.subject, locale=event.locale, customer_id=conversation.customer.customer_id,
                  messages=[{"role": m.author_role.value, "text": m.body_text} for m in conversation.messages])
    return result


def check_files(paths: list[Path], source: str, tenant: str, normaliser: Optional[Normaliser] = None) -> dict:
    if normaliser is None:
        from services.ingest.locale_detection import LocaleDetector

        detector = LocaleDetector()
        detector.warm_up()  # model loading is not the first payload's cost (it would exceed the budget)
        normaliser = Normaliser(locale_detector=detector)
    return {"results": [check_file(normaliser, path, source.lower(), tenant) for path in paths]}
