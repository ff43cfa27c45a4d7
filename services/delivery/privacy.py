"""What delivery needs from the shared privacy and knowledge modules, loaded lazily.

* ``open_sealed``: the customer's address for an e-mail reply, opened from the
  sealed original with the customer's key (the key store ingest seals with);
* ``redact``: a platform's error body before it goes into a dead letter;
* ``clause_text``: the clause exactly as published at the cited KB version.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from casetrail.events.conversation import EncryptedText


@lru_cache(maxsize=1)
def _keystore():
    from casetrail.privacy.keystore import default_keystore

    return default_keystore()


def open_sealed(sealed: EncryptedText) -> str:
    return _keystore().open(sealed)


def redact(text: str) -> str:
    from casetrail.privacy.pii import detect

    findings = detect(text)
    for finding in reversed(findings):
        text = text[:finding.start] + f"[{finding.kind.name}]" + text[finding.end:]
    return text


@lru_cache(maxsize=4096)
def clause_text(tenant: str, citation: str) -> Optional[str]:
    """The text of ``clause_id@kb_version`` as published for ``tenant``, or None when not resolvable here."""
    from casetrail.knowledge import resolve

    clause_id, _, version = citation.partition("@")
    if not version:
        return None
    try:
        clause = resolve(tenant, "", clause_id, version)
    except Exception:  # a missing or unreadable catalogue: the note says the text is not resolvable
        return None
    return clause.text if clause is not None else None
