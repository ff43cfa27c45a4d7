"""From one intake payload to one redacted ``ConversationReceived``.

The whole per-ticket path, free of Kafka: size and encoding checks, the
source's connector, locale detection, personal-data redaction, sealing of the
original text under the customer's key, and the stable conversation id.
Stateful decisions (redeliveries, re-contacts) take the facts returned here
and live in ``idempotency`` and ``recontact``.
"""

from __future__ import annotations

import datetime as dt
import email.errors
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Protocol

import casetrail
from casetrail.events import (
    AuthorRole, Conversation, ConversationReceived, CustomerContext, EncryptedText, LocaleStatus, Message,
    ProducerInfo, RedactionFinding,
)
from casetrail.events.envelope import utc_now
from casetrail.events.identity import conversation_id, received_event_id
from casetrail.privacy.customer_key import customer_key
from services.ingest import budget
from services.ingest.connectors import connector_for
from services.ingest.connectors.base import NormalisedTicket
from services.ingest.own_messages import latest_is_own, mark_own_messages
from services.ingest.locale_detection import LocaleDetector, LocaleGuess, UNDETERMINED, resolve
from services.ingest.redaction import Redactor
from services.ingest.rejections import (
    EMPTY_BODY, INVALID_FIELD, INVALID_UTF8, PAYLOAD_TOO_LARGE, Rejected, failure_site,
)

SERVICE = "ingest"
DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024


class Sealer(Protocol):
    def seal(self, tenant: str, customer_id: str, plaintext: str) -> EncryptedText: ...


@dataclass(frozen=True)
class IntakeRecord:
    """One intake record, whatever its framing (Avro IntakeTicket or raw bytes + headers)."""

    tenant: str
    source: str
    payload: bytes
    content_type: str = "application/json"
    received_at: dt.datetime = field(default_factory=utc_now)
    attributes: dict[str, str] = field(default_factory=dict)
    intake_event_id: Optional[str] = None


@dataclass(frozen=True)
class Normalised:
    event: ConversationReceived
    delivery_key: str  # tenant/source/external id
    delivery_stamp: str  # "u:<source update stamp>" or "h:<payload hash>"
    customer_key: str  # sha256 of tenant + customer id (state keys carry no ids)
    subject_key: str  # hash of the normalised subject ("" when none)
    topic_terms: tuple[int, ...]  # hashed content words of the customer's text (topic similarity)
    latest_role: AuthorRole  # who wrote the newest message
    latest_at: dt.datetime
    status: Optional[str]
    locale: LocaleGuess
    latest_own: bool = False  # the newest message is casetrail's own post, reported back


_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|wg|tr|rv|ats|pers|réf|ref)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]{4,}")
_SPACE_RUN = re.compile(r"\s+")
_PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")


def subject_key(subject: Optional[str]) -> str:
    if not subject:
        return ""
    cleaned = _SUBJECT_PREFIX.sub("", subject).strip().casefold()
    cleaned = _SPACE_RUN.sub(" ", cleaned)
    return hashlib.sha256(cleaned.encode()).hexdigest()[:16] if cleaned else ""


def topic_terms(text: str, limit: int = 40) -> tuple[int, ...]:
    """Hashed content words (no raw words kept in state), for same-topic comparison."""
    if "[" in text:  # placeholders are not topic words
        text = _PLACEHOLDER.sub(" ", text)
    words = {w.casefold() for w in _WORD.findall(text)}
    hashed = sorted(int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "big") for w in words)
    return tuple(hashed[:limit])


class _BudgetedRedactor(Redactor):
    """Checks the record's budget before each text (a ticket may hold thousands of small ones)."""

    def redact(self, text: str) -> str:
        budget.check("redaction")
        return super().redact(text)


class Normaliser:
    def __init__(
        self,
        *,
        locale_detector: Optional[LocaleDetector] = None,
        sealer: Optional[Sealer] = None,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        detect_locale: bool = True,
        version: str = casetrail.__version__,
        default_locales: Optional[Mapping[str, str]] = None,
        budget_seconds: float = budget.DEFAULT_BUDGET_SECONDS,
    ):
        self.budget_seconds = budget_seconds
        self.locale_detector = locale_detector or LocaleDetector()
        #: tenant -> its default locale (the last fallback of locale detection, see locale_detection)
        self.default_locales = dict(default_locales or {})
        self.sealer = sealer
        self.max_payload_bytes = max_payload_bytes
        self.detect_locale = detect_locale
        self.producer = ProducerInfo(service=SERVICE, version=version)

    # -- steps ------------------------------------------------------------------
    def check_payload(self, record: IntakeRecord) -> None:
        size = len(record.payload)
        if size > self.max_payload_bytes:
            raise Rejected(PAYLOAD_TOO_LARGE, f"payload is {size} bytes; the limit is {self.max_payload_bytes}")
        if not record.payload.strip():
            raise Rejected(EMPTY_BODY, "payload is empty")

    def parse(self, record: IntakeRecord) -> NormalisedTicket:
        self.check_payload(record)
        connector = connector_for(record.source)
        if "message/rfc822" not in getattr(connector, "content_types", ()):
            try:
                record.payload.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise Rejected(INVALID_UTF8, f"payload is not valid UTF-8 (byte {exc.start}: {exc.reason})") from None
        try:
            ticket = connector.parse(record.payload, record.attributes)
        except (TypeError, AttributeError, ValueError, KeyError, IndexError, OverflowError, LookupError,
                email.errors.MessageError) as exc:
            # A field of a type or shape the connector did not expect (a list where the
            # documentation has a string...): bad input, refused with where it was found.
            raise Rejected(INVALID_FIELD, f"{record.source} payload has a field of an unexpected type or shape "
                                          f"({type(exc).__name__} at {failure_site(exc)})") from None
        ticket.messages.sort(key=lambda m: m.sent_at)
        mark_own_messages(ticket)  # casetrail's own posts, reported back by the platform
        return ticket

    def locale_of(self, ticket: NormalisedTicket, tenant: Optional[str] = None) -> LocaleGuess:
        """Detected from the newest customer text (then more of the customer's texts, then with the
        subject); when nothing is confident: a weak detection, the declared locale, the tenant's default."""
        declared = ticket.declared_locale or ticket.customer.locale
        default = self.default_locales.get(tenant) if tenant else None
        if not self.detect_locale:
            return resolve(LocaleGuess(UNDETERMINED, LocaleStatus.unknown, 0.0), declared)
        detector = self.locale_detector
        customer_texts = [m.body_text for m in ticket.messages if m.author_role == AuthorRole.customer and m.body_text]
        latest = customer_texts[-1] if customer_texts else (ticket.messages[-1].body_text if ticket.messages else "")
        guesses = [detector.detect(latest)]
        if guesses[-1].status == LocaleStatus.unknown and len(customer_texts) > 1:
            guesses.append(detector.detect("\n".join(customer_texts[-5:])))
        if guesses[-1].status == LocaleStatus.unknown and ticket.subject:
            guesses.append(detector.detect(f"{ticket.subject}\n{latest}"))
        if guesses[-1].status != LocaleStatus.unknown:
            return guesses[-1]
        weak = next((g for g in guesses if detector.weak(g)), None)
        foreign = any(g.foreign for g in guesses)
        last = guesses[-1]
        if weak is not None:
            return resolve(weak, declared, default, weak=True)
        return resolve(LocaleGuess(last.locale, last.status, last.confidence, foreign=foreign), declared, default)

    def normalise(self, record: IntakeRecord) -> Normalised:
        """Raises ``Rejected`` for bad input, ``too_expensive`` past the per-record CPU budget."""
        with budget.active(budget.Budget(self.budget_seconds)):
            return self._normalise(record)

    def _normalise(self, record: IntakeRecord) -> Normalised:
        ticket = self.parse(record)
        budget.check("parsing")
        guess = self.locale_of(ticket, record.tenant)
        budget.check("locale detection")
        redact_locale = guess.locale if guess.locale not in (UNDETERMINED, "mul") else None
        redactor = _BudgetedRedactor(redact_locale, ticket.customer.names)
        messages = [
            Message(
                message_id=m.message_id,
                author_role=m.author_role,
                author_id=m.author_id,
                sent_at=m.sent_at,
                body_text=redactor.redact(m.body_text),
                attachments=[a.model_copy(update={"filename": redactor.redact(a.filename)}) for a in m.attachments],
            )
            for m in ticket.messages
        ]
        subject = redactor.redact(ticket.subject) if ticket.subject else None
        customer = ticket.customer
        context = CustomerContext(
            customer_id=customer.customer_id,
            tier=customer.tier,
            lifetime_value=customer.lifetime_value,
            region=customer.region,
            timezone=customer.timezone,
            attributes={k: redactor.redact(v) for k, v in customer.attributes.items()},
        )
        original = None
        budget.check("redaction")
        if self.sealer is not None:
            plaintext = json.dumps(
                {"subject": ticket.subject, "messages": [{"id": m.message_id, "text": m.body_text} for m in ticket.messages],
                 "customer": {"names": list(customer.names), "emails": list(customer.emails)}},
                ensure_ascii=False,
            )
            original = self.sealer.seal(record.tenant, customer.customer_id, plaintext)
        digest = hashlib.sha256()
        for part in (subject or "", *(m.body_text for m in messages)):
            digest.update(part.encode())
            digest.update(b"\x00")
        conversation = Conversation(
            source=ticket.source,
            external_id=ticket.external_id,
            channel=ticket.channel,
            subject=subject,
            messages=messages,
            customer=context,
            source_priority=ticket.source_priority,
            tags=ticket.tags,
            received_at=record.received_at,
            locale_status=guess.status,
            locale_confidence=guess.confidence,
            redactions=[RedactionFinding(kind=k, count=n) for k, n in sorted(redactor.findings.items())],
            original=original,
            content_hash=digest.hexdigest(),
            automated=ticket.automated.kind if ticket.automated else None,
            automated_signal=ticket.automated.signal if ticket.automated else None,
        )
        stamp = f"u:{ticket.update_stamp}" if ticket.update_stamp else "h:" + hashlib.sha256(record.payload).hexdigest()[:32]
        event = ConversationReceived(
            event_id=received_event_id(record.tenant, ticket.source, ticket.external_id, stamp),
            conversation_id=conversation_id(record.tenant, ticket.source, ticket.external_id),
            causation_id=record.intake_event_id,
            tenant=record.tenant,
            locale=guess.locale,
            producer=self.producer,
            conversation=conversation,
        )
        customer_texts = " ".join(m.body_text for m in messages if m.author_role == AuthorRole.customer)
        latest = ticket.messages[-1]
        return Normalised(
            event=event,
            delivery_key=f"{record.tenant}/{ticket.source}/{ticket.external_id}",
            delivery_stamp=stamp,
            customer_key=customer_key(record.tenant, customer.customer_id),
            subject_key=subject_key(ticket.subject),
            topic_terms=topic_terms(f"{subject or ''} {customer_texts}"),
            latest_role=latest.author_role,
            latest_own=latest_is_own(ticket),
            latest_at=latest.sent_at,
            status=ticket.status,
            locale=guess,
        )
