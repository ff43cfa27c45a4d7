"""The normalised conversation that ingest emits and every later stage carries.

Text in here is already redacted: personal data is replaced by typed
placeholders (``[EMAIL_1]``) before anything downstream sees it. The original
text, when kept at all, travels only encrypted under a per-customer key.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

from pydantic import Field

from casetrail.events.envelope import AvroRecord, EventEnvelope


class AuthorRole(str, enum.Enum):
    customer = "customer"
    agent = "agent"
    bot = "bot"
    system = "system"


class LocaleStatus(str, enum.Enum):
    detected = "detected"  # one supported language, confident
    declared = "declared"  # taken from the source, not detected
    mixed = "mixed"  # several languages, none dominant
    unknown = "unknown"  # too short or not a supported language: never guessed


class AutomatedKind(str, enum.Enum):
    """Why a message was written by a machine rather than a person. Nothing answers such a
    conversation: no autonomous reply, no drafted reply sent, no acknowledgement (mail loops)."""

    auto_reply = "auto_reply"  # RFC 3834 Auto-Submitted: auto-replied, X-Autoreply, out-of-office/vacation notices
    bounce = "bounce"  # delivery status notification: multipart/report; report-type=delivery-status, mailer-daemon
    mailing_list = "mailing_list"  # List-Id, Precedence: bulk|list|junk, digests
    auto_generated = "auto_generated"  # Auto-Submitted: auto-generated/auto-notified, a platform's rule/trigger/automation


class Attachment(AvroRecord):
    filename: str
    content_type: str = "application/octet-stream"
    size_bytes: Optional[int] = None
    url: Optional[str] = None


class Message(AvroRecord):
    message_id: str
    author_role: AuthorRole
    author_id: Optional[str] = None
    sent_at: dt.datetime
    body_text: str
    attachments: list[Attachment] = Field(default_factory=list)


class CustomerContext(AvroRecord):
    customer_id: str
    tier: Optional[str] = None
    lifetime_value: Optional[float] = None
    region: Optional[str] = None
    timezone: Optional[str] = None
    attributes: dict[str, str] = Field(default_factory=dict)


class RedactionFinding(AvroRecord):
    """How many values of one personal-data type were replaced (never the values)."""

    kind: str
    count: int


class EncryptedText(AvroRecord):
    """Original text sealed with the customer's key; erasing the key erases it."""

    key_id: str
    algorithm: str = "AES-256-GCM"
    nonce: bytes
    ciphertext: bytes


class Conversation(AvroRecord):
    source: str
    external_id: str
    channel: str
    subject: Optional[str] = None
    messages: list[Message]
    customer: CustomerContext
    source_priority: Optional[str] = None
    tags: list[str] = Field(default_factory=list)
    received_at: dt.datetime
    locale_status: LocaleStatus = LocaleStatus.detected
    locale_confidence: float = 0.0
    redactions: list[RedactionFinding] = Field(default_factory=list)
    original: Optional[EncryptedText] = None
    content_hash: str = ""
    # Set when the newest inbound message was written by a machine (see AutomatedKind):
    # the router never sends to it and delivery never answers it. None: a person wrote it.
    automated: Optional[AutomatedKind] = None
    # What decided ``automated``: a header or marker name and value ("Auto-Submitted: auto-replied",
    # "via.source.rel: trigger"), never message text or addresses.
    automated_signal: Optional[str] = None

    def latest_customer_text(self) -> str:
        """The newest customer message."""
        for message in reversed(self.messages):
            if message.author_role == AuthorRole.customer:
                return message.body_text
        return self.messages[-1].body_text if self.messages else ""

    def ticket_text(self) -> str:
        """What the customer is asking now: the one definition every stage reads (triage
        classifies it, the drafter answers it, the verifier checks replies against it).

        The newest customer message, preceded by the subject while the customer has written
        only once (a subject describes the first message, not a follow-up) and the message
        does not already contain it.
        """
        latest = self.latest_customer_text()
        customer_messages = sum(1 for m in self.messages if m.author_role == AuthorRole.customer)
        subject = (self.subject or "").strip()
        if subject and customer_messages <= 1 and subject not in latest:
            return f"{subject}\n{latest}"
        return latest


class ConversationReceived(EventEnvelope):
    """Ingest's output: one conversation the rest of the pipeline can trust."""

    conversation: Conversation

    class Meta:
        namespace = "io.casetrail.events"


class RecontactDetected(EventEnvelope):
    """A customer came back within the re-contact window of an answered conversation."""

    original_conversation_id: str
    answered_by: str  # "bot" or "agent"
    answered_at: dt.datetime
    window_days: int = 7

    class Meta:
        namespace = "io.casetrail.events"
