"""What a ticketing system (or the webhook bridge) puts on the intake topic.

Producers that can write Avro publish ``IntakeTicket``; systems that can only
write their own JSON (or a raw RFC 5322 message) publish the bytes as they are
with a ``casetrail-source`` record header. Ingest accepts both.

v2: the webhook bridge seals the payload with the customer's key (``sealed_payload``; ``payload`` is
then empty), so erasing the customer makes the intake record unreadable within its 14 days too.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from pydantic import Field

from casetrail.events.conversation import EncryptedText
from casetrail.events.envelope import AvroRecord, utc_now
from casetrail.events.identity import new_event_id


class IntakeTicket(AvroRecord):
    """A source payload, untouched, with the facts needed to route it to a connector."""

    event_id: str = Field(default_factory=new_event_id)
    tenant: str
    source: str  # connector name: zendesk, intercom, freshdesk, servicenow, email, generic
    content_type: str = "application/json"
    payload: bytes
    external_id: Optional[str] = None
    received_at: dt.datetime = Field(default_factory=utc_now)
    attributes: dict[str, str] = Field(default_factory=dict)
    # v2: the payload sealed with the customer's key (casetrail.privacy.keystore); ``payload`` is b"" then
    sealed_payload: Optional[EncryptedText] = None

    class Meta:
        namespace = "io.casetrail.events"
