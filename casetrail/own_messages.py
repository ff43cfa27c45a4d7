"""How casetrail marks what it writes to a ticketing platform, so it never answers itself.

A platform's webhook reports casetrail's own comments back as new events, and a
reply e-mail can come back into the intake mailbox (a forward, a CC, a
mis-configured route). Delivery marks every message it writes; ingest
recognises the mark and never hands such a message to triage. The mark is
shared here because the two services only meet through this contract.

* Every message body ends with a reference line holding ``ct-<12 hex>`` (the
  effect's marker, derived from its idempotency key): visible, short, and it
  survives every platform's HTML/text conversion. It is also what delivery
  searches for on the platform to find a write it made before a crash.
* E-mails also carry the ``X-Casetrail-Ref`` header and a Message-ID in the
  ``casetrail.invalid`` domain (RFC 2606: never a real host), plus RFC 3834
  ``Auto-Submitted: auto-replied``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Mapping, Optional

MARKER_PREFIX = "ct-"
REF_HEADER = "X-Casetrail-Ref"
MESSAGE_ID_DOMAIN = "casetrail.invalid"
_MARKER = re.compile(r"\bct-[0-9a-f]{12}\b")
# The reference line delivery appends: "ref ct-0123456789ab" alone on the last line
# (a customer quoting an old reply has it somewhere in the middle, not as their last line).
_REF_LINE = re.compile(r"(?:^|\n)[^\S\n]*(?:[-–—][^\S\n]*)?ref[^\S\n]+(ct-[0-9a-f]{12})[^\S\n]*\Z", re.IGNORECASE)


def marker_for(effect_key: str) -> str:
    """The marker of an effect: a function of its key, so a retry writes (and finds) the same one."""
    return MARKER_PREFIX + hashlib.sha256(effect_key.encode()).hexdigest()[:12]


def reference_line(marker: str) -> str:
    return f"ref {marker}"


def message_id_for(marker: str) -> str:
    """The RFC 5322 Message-ID of an e-mail casetrail sends (without angle brackets)."""
    return f"{marker}@{MESSAGE_ID_DOMAIN}"


def marker_in(text: str) -> Optional[str]:
    """The marker of casetrail's reference line when ``text`` ends with one, else None."""
    found = _REF_LINE.search(text.rstrip())
    return found.group(1).lower() if found else None


def contains_marker(text: str, marker: str) -> bool:
    """Whether ``text`` (a platform comment, HTML or plain) holds ``marker``: the lookup after a crash."""
    return marker in text


def is_own_email(headers: Mapping[str, str]) -> bool:
    """An e-mail casetrail sent: our reference header, or a Message-ID in our domain."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if lowered.get(REF_HEADER.lower()):
        return True
    message_id = lowered.get("message-id") or ""
    return message_id.strip().strip("<>").lower().endswith("@" + MESSAGE_ID_DOMAIN)


def any_marker(text: str) -> bool:
    return bool(_MARKER.search(text))
