"""Event contracts: one pydantic model per Avro event type, sharing an envelope."""

from casetrail.events.catalog import EVENT_TYPES, schema_of
from casetrail.events.conversation import (
    Attachment,
    AuthorRole,
    AutomatedKind,
    Conversation,
    ConversationReceived,
    CustomerContext,
    EncryptedText,
    LocaleStatus,
    Message,
    RecontactDetected,
    RedactionFinding,
)
from casetrail.events.decision import (
    Action,
    AgentFeedback,
    FeedbackAction,
    RejectionReason,
    HandoffBrief,
    Mode,
    ReplyOutbound,
    RoutedDecision,
    SlaEvent,
    SlaEventKind,
)
from casetrail.events.delivery import DeliveryEffect, DeliveryOutcome, DeliveryReceipt
from casetrail.events.draft import Citation, Draft, DraftOutcome, DraftProposed, RetrievedClause
from casetrail.events.envelope import DecisionVersions, EventEnvelope, ProducerInfo, utc_now
from casetrail.events.identity import new_event_id
from casetrail.events.ingest_state import AnsweredConversation, ArrivedConversation, ConversationObserved, CustomerActivity
from casetrail.events.intake import IntakeTicket
from casetrail.events.operations import (
    DeadLetter,
    GateCell,
    GateOutcome,
    KnowledgeBasePublished,
    PersonalDataErased,
    VersionGateDecided,
)
from casetrail.events.triage import ConversationTriaged, IntentScore, TriageResult
from casetrail.events.verification import CheckResult, DraftVerified, Verdict, Verification

__all__ = [name for name in dir() if not name.startswith("_")]
