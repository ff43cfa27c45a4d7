"""Triage of one conversation: every signal, computed once, from pure inputs.

``Triager.triage(event, history, policy)`` returns the ``TriageResult``, the
customer's updated history (for the service table) and the model versions —
no Kafka here, so it is unit-tested without a broker and reused by the
benchmark. The embedding is computed once and reused by intent, sentiment and
duplicate detection, and travels in the event for the drafter.

Behaviour on bad input (see services/triage/README.md): empty or emoji-only
text, over-long text and unknown language never raise; they set flags and
make the result one a human must look at (``out_of_scope`` with confidence 0
or the ``unknown_language`` flag, which tenant routing sends to a person).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping, Optional

import numpy as np

from casetrail.embeddings import Embedder
from casetrail.events.conversation import ConversationReceived, LocaleStatus
from casetrail.events.envelope import DecisionVersions, ProducerInfo
from casetrail.events.triage import ConversationTriaged, IntentScore, TriageResult
from casetrail.policy.taxonomy import OUT_OF_SCOPE, SUPPORTED_LOCALES
from casetrail.policy.tenant import TenantPolicy
from casetrail.privacy.customer_key import customer_key
from services.triage.churn import churn_risk
from services.triage.customer_history import (
    HistorySettings, contacts_in_window, find_duplicate, record_contact, sentiment_trend,
)
from services.triage.intent_model import IntentModel
from services.triage.promoted_models import (
    PromotedIntentModel, PromotedModelError, intent_model_choices, load_promoted_models,
)
from services.triage.sentiment import SentimentModel, surface_frustration
from services.triage.settings import TriageSettings
from services.triage.sla import sla_due
from services.triage.escalation_cues import detect_escalation_cues
from services.triage.spam_abuse import detect_spam_abuse
from services.triage.text_input import (
    MAX_TEXT_CHARS, head_within_tokens, prepare_text,
)
from services.triage.urgency import assess_urgency
from services.triage.vip import is_vip

MODELS_DIR = Path(__file__).parent / "models"
DEFAULT_INTENT_MODEL = MODELS_DIR / "intent"
DEFAULT_SENTIMENT_MODEL = MODELS_DIR / "sentiment"

# Emoji carry tone even when there are no words (an "emoji only" ticket).
_NEGATIVE_EMOJI = set("😠😡🤬😤😞😢😭👎💢😩😫🙄😒")
_POSITIVE_EMOJI = set("😀😃😄😁😊🙂😍🥰👍🙏❤💯🎉😇")


@dataclass
class TriageOutcome:
    result: TriageResult
    history: dict
    model_version: str
    reasons: dict[str, list[str]] = field(default_factory=dict)


def customer_history_key(event: ConversationReceived) -> str:
    """The customer-history state key of a conversation: ``<tenant>:<customer id>``."""
    return f"{event.tenant}:{event.conversation.customer.customer_id}"


def history_customer(key: str, value: object) -> str:
    """The customer key (``casetrail.privacy.customer_key``) of a ``customer_history`` entry, for erasure.

    Read from the table key, ``<tenant>:<customer id>``: the value holds no ids. Split at the first
    colon: a tenant is a policy file's name, a customer id may hold colons."""
    tenant, _, customer_id = key.partition(":")
    return customer_key(tenant, customer_id)


def triaged_event(event: ConversationReceived, outcome: TriageOutcome, policy: TenantPolicy,
                  producer: ProducerInfo) -> ConversationTriaged:
    """The ``ConversationTriaged`` event for one triaged conversation.

    Its envelope is derived from the input's (``EventEnvelope.derive``): a redelivered or
    replayed input yields the same event id, so consumers deduplicate.
    """
    return ConversationTriaged(
        **event.derive("triage", producer),
        versions=DecisionVersions(model=outcome.model_version, policy=policy.fingerprint),
        conversation=event.conversation,
        triage=outcome.result,
    )


def _emoji_sentiment(text: str) -> float:
    negative = sum(ch in _NEGATIVE_EMOJI for ch in text)
    positive = sum(ch in _POSITIVE_EMOJI for ch in text)
    if negative + positive == 0:
        return 0.0
    return round((positive - negative) / (positive + negative), 4)


def content_hash(text: str) -> str:
    """Hash of the normalised text (case and whitespace folded) — for exact duplicates."""
    return hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).hexdigest()[:32]


class Triager:
    def __init__(
        self,
        embedder: Embedder,
        intent_model: IntentModel,
        sentiment_model: SentimentModel,
        history_settings: HistorySettings = HistorySettings(),
        max_text_chars: int = MAX_TEXT_CHARS,
        max_embed_tokens: Optional[int] = None,
        promoted_intent_models: Mapping[str, PromotedIntentModel] = MappingProxyType({}),
    ) -> None:
        if intent_model.embedder_name != embedder.name:
            raise ValueError(
                f"intent model {intent_model.version} was trained on embeddings of {intent_model.embedder_name!r}, "
                f"but the embedder is {embedder.name!r}; retrain it (casetrail triage train) or use the matching embedder"
            )
        for tenant, promoted in sorted(promoted_intent_models.items()):
            if promoted.model.embedder_name != embedder.name:
                raise PromotedModelError(
                    f"tenant {tenant}: the promoted intent model {promoted.promoted} ({promoted.model.version}) was "
                    f"trained on embeddings of {promoted.model.embedder_name!r}, but the embedder is {embedder.name!r}")
        if sentiment_model.embedder_name != embedder.name:
            raise ValueError(f"sentiment model was trained on {sentiment_model.embedder_name!r}, embedder is {embedder.name!r}")
        self.embedder = embedder
        self.intent_model = intent_model
        #: tenants whose intent model the gate promoted (the others use ``intent_model``)
        self.promoted_intent_models = dict(promoted_intent_models)
        self.sentiment_model = sentiment_model
        self.history_settings = history_settings
        self.max_text_chars = max_text_chars
        if max_embed_tokens is None:
            max_embed_tokens = TriageSettings().triage_max_embed_tokens
        #: 0 = no bound; only embedders that can count their tokens are bounded (servers truncate themselves)
        self.max_embed_tokens = max_embed_tokens

    @classmethod
    def default(cls, embedder: Optional[Embedder] = None, settings: Optional[TriageSettings] = None) -> "Triager":
        """The models ``settings`` name (default: read now), else the packaged ones."""
        from casetrail.embeddings import default_embedder

        settings = settings or TriageSettings()
        intent_dir = settings.triage_intent_model or DEFAULT_INTENT_MODEL
        sentiment_dir = settings.triage_sentiment_model or DEFAULT_SENTIMENT_MODEL
        return cls(embedder or default_embedder(), IntentModel.load(intent_dir), SentimentModel.load(sentiment_dir),
                   max_embed_tokens=settings.triage_max_embed_tokens)

    @classmethod
    def with_promotions(cls, promotions: Mapping, tenants: Iterable[str],
                        embedder: Optional[Embedder] = None, settings: Optional[TriageSettings] = None) -> "Triager":
        """``default`` plus, for each of ``tenants`` with a promoted intent model (promotions file content),
        that model; raises ``PromotedModelError`` naming the tenant and version when one cannot be used."""
        from casetrail.embeddings import default_embedder

        base = cls.default(embedder or default_embedder(), settings)
        choices = intent_model_choices(promotions, tenants, DEFAULT_INTENT_MODEL)
        return cls(base.embedder, base.intent_model, base.sentiment_model, max_embed_tokens=base.max_embed_tokens,
                   promoted_intent_models=load_promoted_models(choices))

    @property
    def versions(self) -> dict[str, str]:
        return {"intent": self.intent_model.version, "sentiment": self.sentiment_model.version,
                "embedder": self.embedder.name}

    @property
    def model_version(self) -> str:
        """Stamped on ``versions.model``: intent model, sentiment model and embedder, all content-addressed."""
        return f"{self.intent_model.version}+{self.sentiment_model.version}+{self.embedder.name}"

    def intent_model_for(self, tenant: str) -> IntentModel:
        promoted = self.promoted_intent_models.get(tenant)
        return promoted.model if promoted else self.intent_model

    def model_version_for(self, tenant: str) -> str:
        """``model_version`` with the tenant's intent model; a promoted one reads ``<promoted name>=<model>``,
        so the lineage names the version the gate promoted."""
        promoted = self.promoted_intent_models.get(tenant)
        if promoted is None:
            return self.model_version
        return f"{promoted.promoted}={promoted.model.version}+{self.sentiment_model.version}+{self.embedder.name}"

    def _embedding(self, text: str, flags: list[str]) -> np.ndarray:
        """The query vector of ``text``'s first ``max_embed_tokens`` tokens (flag ``embedding_truncated`` when
        that is not all of it). Most tickets fit: an embedder that can (``embed_within``) counts and embeds them
        from one tokenization; a longer text is cut at a word boundary first (``head_within_tokens``)."""
        count_tokens = getattr(self.embedder, "token_count", None)
        if self.max_embed_tokens <= 0 or count_tokens is None:
            return self.embedder.embed([text], kind="query")[0]
        embed_within = getattr(self.embedder, "embed_within", None)
        if embed_within is not None:
            whole = embed_within(text, self.max_embed_tokens, kind="query")
            if whole is not None:
                return whole
        head, cut = head_within_tokens(text, count_tokens, self.max_embed_tokens)
        if cut:
            flags.append("embedding_truncated")
        return self.embedder.embed([head], kind="query")[0]

    def triage(self, event: ConversationReceived, history: Optional[dict], policy: TenantPolicy,
               now: Optional[dt.datetime] = None) -> TriageOutcome:
        conversation = event.conversation
        history = history or {"entries": []}
        received_at = conversation.received_at
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=dt.timezone.utc)
        now = now or received_at
        prepared = prepare_text(conversation.ticket_text(), self.max_text_chars)
        flags = list(prepared.flags)
        reasons: dict[str, list[str]] = {}

        language = event.locale.split("-")[0].lower() if event.locale else "unknown"
        if conversation.locale_status == LocaleStatus.unknown or language not in SUPPORTED_LOCALES:
            flags.append("unknown_language")
            language = "unknown"
        elif conversation.locale_status == LocaleStatus.mixed:
            flags.append("mixed_language")
        if language != "unknown" and language not in policy.locales:
            flags.append("locale_not_served")

        embedding: Optional[np.ndarray] = None
        alternatives: list[IntentScore] = []
        if prepared.classifiable:
            embedding = self._embedding(prepared.text, flags)
            prediction = self.intent_model_for(event.tenant).predict([prepared.text], embedding[None, :])[0]
            intent, confidence, out_of_scope = prediction.intent, prediction.confidence, prediction.out_of_scope
            alternatives = [IntentScore(intent=i, confidence=round(p, 4)) for i, p in prediction.alternatives]
            sentiment, frustration = self.sentiment_model.score([prepared.text], embedding[None, :])[0]
        else:
            intent, confidence, out_of_scope = OUT_OF_SCOPE, 0.0, True
            sentiment = _emoji_sentiment(prepared.text)
            frustration = min(1.0, max(0.0, -sentiment) * 0.5 + surface_frustration(prepared.text))
        if out_of_scope:
            flags.append("out_of_scope")
        # Default-taxonomy intents are the categories; a tenant-trained model's intents are its categories.
        category = intent

        spam = detect_spam_abuse(prepared.text)
        reasons["spam_abuse"] = spam.reasons
        cues = detect_escalation_cues(prepared.text)  # a person must answer, whatever the intent model says
        flags.extend(cues.flags)
        reasons["escalation"] = cues.reasons
        vip, vip_matched = is_vip(policy, conversation.customer)
        reasons["vip"] = vip_matched

        text_hash = content_hash(prepared.text) if prepared.text else ""
        duplicate_of, similarity = (None, 0.0)
        if prepared.text:
            duplicate_of, similarity = find_duplicate(history, event.conversation_id, text_hash, embedding, now,
                                                      self.history_settings)
        if duplicate_of:
            flags.append("duplicate")
        new_history = record_contact(history, conversation_id=event.conversation_id, at=received_at, sentiment=sentiment,
                                     intent=intent, content_hash=text_hash, embedding=embedding,
                                     settings=self.history_settings)
        contacts = contacts_in_window(new_history, received_at, self.history_settings)
        trend = sentiment_trend(new_history, received_at, self.history_settings)

        urgency = assess_urgency(prepared.text, category, source_priority=conversation.source_priority, vip=vip,
                                 vip_priority=policy.vip.priority, frustration=frustration)
        reasons["priority"] = urgency.reasons
        churn = churn_risk(intent=intent, sentiment=sentiment, frustration=frustration, sentiment_trend=trend,
                           contacts_in_window=contacts, lifetime_value=conversation.customer.lifetime_value)
        reasons["churn"] = churn.reasons
        due = sla_due(policy, conversation.customer.tier, urgency.priority, received_at)

        result = TriageResult(
            intent=intent,
            intent_confidence=round(float(confidence), 4),
            out_of_scope=out_of_scope,
            alternatives=alternatives,
            category=category,
            urgency=urgency.urgency,
            priority=urgency.priority,
            sentiment=float(sentiment),
            frustration=round(float(frustration), 4),
            language=language,
            spam=spam.spam,
            abuse=spam.abuse,
            duplicate_of=duplicate_of,
            vip=vip,
            churn_risk=churn.score,
            contacts_in_window=contacts,
            sla_due_at=due.due_at,
            sla_policy=due.policy_label,
            truncated=prepared.truncated,
            flags=sorted(set(flags)),
            embedding_model=self.embedder.name if embedding is not None else None,
            embedding=[round(float(x), 6) for x in embedding] if embedding is not None else [],
        )
        return TriageOutcome(result, new_history, self.model_version_for(event.tenant), reasons)
