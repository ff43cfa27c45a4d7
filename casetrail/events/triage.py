"""Triage's signals: what every later decision (draft, verify, route) uses."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from pydantic import Field

from casetrail.events.conversation import Conversation
from casetrail.events.envelope import AvroRecord, DecisionEnvelope


class IntentScore(AvroRecord):
    intent: str
    confidence: float


class TriageResult(AvroRecord):
    intent: str  # "out_of_scope" when below the out-of-scope threshold
    intent_confidence: float  # calibrated probability of ``intent``
    out_of_scope: bool = False
    alternatives: list[IntentScore] = Field(default_factory=list)
    category: str
    urgency: str = "normal"  # low | normal | high | urgent
    priority: str = "normal"
    sentiment: float = 0.0  # [-1, 1]
    frustration: float = 0.0  # [0, 1]
    language: str = "unknown"
    spam: bool = False
    abuse: bool = False
    duplicate_of: Optional[str] = None
    vip: bool = False
    churn_risk: float = 0.0  # [0, 1]
    contacts_in_window: int = 1
    sla_due_at: Optional[dt.datetime] = None
    sla_policy: Optional[str] = None
    truncated: bool = False
    flags: list[str] = Field(default_factory=list)  # e.g. unknown_language, empty_text
    embedding_model: Optional[str] = None
    embedding: list[float] = Field(default_factory=list)


class ConversationTriaged(DecisionEnvelope):
    conversation: Conversation
    triage: TriageResult

    class Meta:
        namespace = "io.casetrail.events"
