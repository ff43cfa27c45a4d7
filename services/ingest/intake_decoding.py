"""What an intake record is: an Avro ``IntakeTicket`` or raw source bytes with headers.

Raw payloads name their source in the ``casetrail-source`` header (and may name
the tenant in ``casetrail-tenant``, the content type in ``content-type`` /
``casetrail-content-type``). A record with a ``casetrail-source`` header is
always raw; otherwise it must decode as an Avro IntakeTicket, whose payload the webhook bridge
sealed with the customer's key (v2): it is opened here through the key store, and a customer erased
in the meantime makes the record a ``payload_erased`` rejection.
"""

from __future__ import annotations

import datetime as dt
from typing import Mapping, Optional, Protocol

from casetrail.codec import AvroCodec, DecodeError
from casetrail.events import IntakeTicket
from casetrail.events.conversation import EncryptedText
from casetrail.events.envelope import utc_now
from services.ingest.normalise import IntakeRecord
from services.ingest.rejections import EMPTY_BODY, INVALID_FIELD, PAYLOAD_ERASED, UNKNOWN_SOURCE, Rejected

SOURCE_HEADER = "casetrail-source"
TENANT_HEADER = "casetrail-tenant"
CONTENT_TYPE_HEADERS = ("casetrail-content-type", "content-type")


class Opener(Protocol):
    """What opens a sealed payload (casetrail.privacy.keystore.KeyStore)."""

    def open_bytes(self, sealed: EncryptedText) -> bytes: ...


def _header(headers: Mapping[str, Optional[bytes]], name: str) -> Optional[str]:
    for key, value in headers.items():
        if key.lower() == name and value:
            try:
                return value.decode("utf-8").strip() or None
            except UnicodeDecodeError:
                raise Rejected(INVALID_FIELD, f"record header {name} is not UTF-8") from None
    return None


def intake_record(
    value: Optional[bytes],
    headers: Mapping[str, Optional[bytes]],
    codec: AvroCodec,
    default_tenant: str,
    timestamp: Optional[float] = None,
    opener: Optional[Opener] = None,
) -> IntakeRecord:
    if not value:
        raise Rejected(EMPTY_BODY, "record value is empty")
    source = _header(headers, SOURCE_HEADER)
    if source is not None:
        content_type = next((c for c in (_header(headers, h) for h in CONTENT_TYPE_HEADERS) if c), None)
        received = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc) if timestamp else utc_now()
        return IntakeRecord(
            tenant=_header(headers, TENANT_HEADER) or default_tenant,
            source=source.lower(),
            payload=value,
            content_type=content_type or ("message/rfc822" if source.lower() == "email" else "application/json"),
            received_at=received.replace(microsecond=(received.microsecond // 1000) * 1000),
        )
    try:
        ticket = codec.decode(value, expected=IntakeTicket)
    except DecodeError as exc:
        raise Rejected(
            UNKNOWN_SOURCE,
            f"record has no {SOURCE_HEADER} header and is not an Avro IntakeTicket ({exc.reason_code})",
        ) from None
    return IntakeRecord(
        tenant=ticket.tenant or default_tenant,
        source=ticket.source.lower(),
        payload=_payload(ticket, opener),
        content_type=ticket.content_type,
        received_at=ticket.received_at,
        attributes=dict(ticket.attributes),
        intake_event_id=ticket.event_id,
    )


def _payload(ticket: IntakeTicket, opener: Optional[Opener]) -> bytes:
    if ticket.sealed_payload is None:
        return ticket.payload
    from casetrail.privacy.keystore import KeyErased

    if opener is None:
        raise RuntimeError("a sealed intake payload needs the key store to open it")
    try:
        return opener.open_bytes(ticket.sealed_payload)
    except KeyErased:
        raise Rejected(PAYLOAD_ERASED, "the intake payload was sealed with a customer key that has been erased") from None
