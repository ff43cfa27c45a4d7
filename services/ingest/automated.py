"""Messages written by machines: auto-replies, bounces, list mail, platform automations.

Nothing may answer them (an answer to an out-of-office notice starts a mail
loop; an answer to a bounce goes nowhere), so ingest flags the conversation
(``Conversation.automated``) and the router and delivery leave it alone.

E-mail, from the headers that say so, strongest first:

* RFC 3464 / RFC 6522 delivery status notification: ``multipart/report;
  report-type=delivery-status`` (or ``disposition-notification``: a read
  receipt), or a message from ``MAILER-DAEMON`` / ``postmaster`` -> ``bounce``;
* RFC 3834 ``Auto-Submitted``: ``auto-replied`` -> ``auto_reply``, any other
  value but ``no`` -> ``auto_generated``;
* ``X-Autoreply`` / ``X-Autorespond`` (vacation programs), Exchange's
  ``X-Auto-Response-Suppress`` with ``OOF`` or ``All`` (set on out-of-office
  replies), ``Precedence: auto_reply`` -> ``auto_reply``;
* ``List-Id`` (RFC 2919), ``X-Mailing-List`` / ``Mailing-List`` (majordomo, ezmlm), ``List-Unsubscribe`` / ``List-Post`` (RFC 2369),
  ``Precedence: bulk|list|junk``, ``multipart/digest`` -> ``mailing_list``;
* an out-of-office subject in en/de/fr/es/lt ("Automatic reply:",
  "Abwesenheitsnotiz", "Réponse automatique", "Respuesta automática",
  "Automatinis atsakymas", ...) -> ``auto_reply``.

Platforms: Zendesk's ``via`` (``channel: rule``, ``source.rel: trigger |
automation``) -> ``auto_generated``.

The signal names the header and its (short, normalised) value, never an address
or message text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Optional

from casetrail.events.conversation import AutomatedKind


@dataclass(frozen=True, slots=True)
class Automated:
    kind: AutomatedKind
    signal: str


_OOO_SUBJECT = re.compile(
    r"^\s*(?:"
    r"automatic\s+reply|auto(?:matic)?[\s-]*(?:reply|response)|out\s+of\s+(?:the\s+)?office|away\s+from\s+(?:the\s+)?office|"
    r"on\s+vacation|vacation\s+(?:reply|notice)|"
    r"abwesenheitsnotiz|automatische\s+antwort|abwesend|nicht\s+im\s+büro|"
    r"réponse\s+automatique|reponse\s+automatique|absence\s+du\s+bureau|absent(?:e)?\s+du\s+bureau|"
    r"respuesta\s+automática|respuesta\s+automatica|fuera\s+de\s+(?:la\s+)?oficina|"
    r"automatinis\s+atsakymas|nesu\s+biure"
    r")\b",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(r"^(?:mailer-daemon|postmaster)@", re.IGNORECASE)
_BULK_PRECEDENCE = frozenset(("bulk", "list", "junk"))


def _short(value: str) -> str:
    return " ".join(value.split())[:40].lower()


def from_email_headers(
    header: Callable[[str], Optional[str]], content_type: str, from_address: str, subject: Optional[str],
) -> Optional[Automated]:
    """``header(name)`` returns a header's value (or None); ``content_type`` is the top-level MIME type."""
    params = (header("Content-Type") or "").lower()
    if content_type == "multipart/report":
        report = re.search(r"report-type\s*=\s*\"?([\w-]+)", params)
        report_type = report.group(1) if report else "unknown"
        return Automated(AutomatedKind.bounce, f"Content-Type: multipart/report; report-type={report_type}")
    if _BOUNCE_SENDER.match(from_address):
        return Automated(AutomatedKind.bounce, f"From: {from_address.split('@')[0].lower()}@")
    auto_submitted = header("Auto-Submitted")
    if auto_submitted and _short(auto_submitted).split(";")[0].strip() != "no":
        value = _short(auto_submitted).split(";")[0].strip()
        kind = AutomatedKind.auto_reply if value == "auto-replied" else AutomatedKind.auto_generated
        return Automated(kind, f"Auto-Submitted: {value}")
    for name in ("X-Autoreply", "X-Autorespond"):
        value = header(name)
        if value is not None and _short(value) not in ("no", "false", "0"):
            return Automated(AutomatedKind.auto_reply, f"{name}: {_short(value)}")
    suppress = header("X-Auto-Response-Suppress")
    if suppress and re.search(r"\b(?:oof|all)\b", suppress, re.IGNORECASE):
        return Automated(AutomatedKind.auto_reply, f"X-Auto-Response-Suppress: {_short(suppress)}")
    precedence = _short(header("Precedence") or "")
    if precedence == "auto_reply":
        return Automated(AutomatedKind.auto_reply, "Precedence: auto_reply")
    for name in ("List-Id", "X-Mailing-List", "Mailing-List"):
        if header(name):
            return Automated(AutomatedKind.mailing_list, name)
    if precedence in _BULK_PRECEDENCE:
        return Automated(AutomatedKind.mailing_list, f"Precedence: {precedence}")
    if content_type == "multipart/digest":
        return Automated(AutomatedKind.mailing_list, "Content-Type: multipart/digest")
    for name in ("List-Unsubscribe", "List-Post"):
        if header(name):
            return Automated(AutomatedKind.mailing_list, name)
    if subject and _OOO_SUBJECT.match(subject):
        return Automated(AutomatedKind.auto_reply, "Subject: out-of-office wording")
    return None


def from_zendesk_via(via: Any) -> Optional[Automated]:
    """Zendesk's ``via`` object: a ticket or comment made by a trigger, an automation or a rule."""
    if not isinstance(via, Mapping):
        return None
    channel = str(via.get("channel") or "").lower()
    source = via.get("source")
    rel = str(source.get("rel") or "").lower() if isinstance(source, Mapping) else ""
    if rel in ("trigger", "automation", "rule"):
        return Automated(AutomatedKind.auto_generated, f"via.source.rel: {rel}")
    if channel in ("rule", "automation", "trigger"):
        return Automated(AutomatedKind.auto_generated, f"via.channel: {channel}")
    return None
