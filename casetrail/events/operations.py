"""Events about the system itself: dead letters, KB publications, erasures, gate verdicts."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Optional

from pydantic import Field

from casetrail.events.conversation import EncryptedText
from casetrail.events.envelope import AvroRecord, ProducerInfo, utc_now
from casetrail.events.identity import new_event_id


class DeadLetter(AvroRecord):
    """Anything undecodable or unprocessable, with the reason and the original bytes.

    v2: the original bytes are sealed (``sealed_original_value``) before the dead letter is written:
    with the customer's key when the record's tenant and customer are known, else with a key of the
    record's own, registered under the tenant (``KeyStore.seal_record``). ``original_value`` is then
    None; v1 dead letters (and readers of v1) keep the raw bytes there.
    """

    event_id: str = Field(default_factory=new_event_id)
    occurred_at: dt.datetime = Field(default_factory=utc_now)
    producer: ProducerInfo
    reason_code: str  # machine-readable, e.g. undecodable, invalid_json, unknown_source
    reason: str  # human-readable, never contains ticket text
    exception_type: Optional[str] = None
    source_topic: str
    source_partition: int
    source_offset: int
    original_key: Optional[bytes] = None
    original_value: Optional[bytes] = None
    original_headers: dict[str, bytes] = Field(default_factory=dict)
    # v2: whose record it was (the tenant the record named, or the default tenant), and its sealed bytes
    tenant: Optional[str] = None
    sealed_original_value: Optional[EncryptedText] = None

    class Meta:
        namespace = "io.casetrail.events"


class KnowledgeBasePublished(AvroRecord):
    event_id: str = Field(default_factory=new_event_id)
    occurred_at: dt.datetime = Field(default_factory=utc_now)
    producer: ProducerInfo
    tenant: str
    locale: str
    kb_version: str  # "<human version>+<content hash>"
    content_hash: str
    clause_ids: list[str] = Field(default_factory=list)
    collection: str = ""

    class Meta:
        namespace = "io.casetrail.events"


class PersonalDataErased(AvroRecord):
    """Crypto-shredding: the customer's key was destroyed; this records that it happened."""

    event_id: str = Field(default_factory=new_event_id)
    occurred_at: dt.datetime = Field(default_factory=utc_now)
    producer: ProducerInfo
    tenant: str
    customer_id: str
    key_id: str
    requested_by: str
    reason: str = ""

    class Meta:
        namespace = "io.casetrail.events"


class GateOutcome(str, enum.Enum):
    promoted = "promoted"
    refused = "refused"


class GateCell(AvroRecord):
    """The error rate of one slice (``category:<name>`` or ``locale:<code>``) before and after."""

    slice: str
    examples: int
    production_error_rate: float
    candidate_error_rate: float


class VersionGateDecided(AvroRecord):
    """The gate's verdict on a candidate version (intent model, knowledge base, template/prompt).

    Services load only versions whose latest verdict is ``promoted``; a refusal
    names the slices (categories, locales) that got worse.
    """

    event_id: str = Field(default_factory=new_event_id)
    occurred_at: dt.datetime = Field(default_factory=utc_now)
    producer: ProducerInfo
    tenant: str
    kind: str  # intent_model | knowledge_base | template
    candidate: str
    production: str
    outcome: GateOutcome
    examples: int
    agent_examples: int
    production_error_rate: float
    candidate_error_rate: float
    # the rolling baseline the candidate's dev-set error rate had to stay within (casetrail_tools.gate.baseline);
    # in v1 events: production's error rate on the same set
    baseline_error_rate: float
    worse: list[GateCell] = Field(default_factory=list)
    requested_by: str = ""
    # v2: the dev-set part of the evaluation set (fixed from one verdict to the next), and which promoted
    # versions' dev-set measurements the rolling baseline is the mean of (empty: production's own rate)
    dev_examples: int = 0
    production_dev_error_rate: Optional[float] = None
    candidate_dev_error_rate: Optional[float] = None
    baseline_window: list[str] = Field(default_factory=list)

    class Meta:
        namespace = "io.casetrail.events"
