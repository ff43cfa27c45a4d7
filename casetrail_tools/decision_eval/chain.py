"""One ticket through every decision stage, in process, with no broker.

The stages are the services' own pure functions: ingest's ``IngestProcessor``
(normalise, detect the locale, redact), triage's ``Triager.triage`` and
``triaged_event``, the drafter's ``Drafter.draft``, the verifier's
``TenantVerifiers.verify`` and ``verified_event``, and the router's ``route``.
What differs from the running services is only the wiring: the tenant's
knowledge base is published from its source folder into a scratch catalogue
with an in-memory index, every ticket is a new customer (no history), and the
clock is fixed.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from casetrail.events import ProducerInfo, Verification
from casetrail.policy.calendar import BusinessCalendar
from casetrail.policy.tenant import TenantPolicy, load_policies
from casetrail_tools.decision_eval.tickets import EvalTicket, intake_payload

STAGES = ("ingest", "triage", "draft", "verify", "route")


class ChainError(RuntimeError):
    """The chain cannot be built (unknown tenant, knowledge base refused, model missing)."""


@dataclass(frozen=True)
class TicketDecision:
    """What the chain decided for one ticket (the ``tickets`` entries of the JSON report)."""

    id: str
    locale: Optional[str]
    category: Optional[str]
    confidence: Optional[float]  # triage's calibrated intent confidence
    out_of_scope: Optional[bool]
    action: str  # send | review | escalate | acknowledge | drop | rejected (ingest refused the ticket)
    queue: Optional[str]
    verdict: Optional[str]
    failed_checks: list[str]
    citations: list[str]
    reply: Optional[str]  # the text sent to the customer; None when nothing is sent
    # Beyond the report's interface: for the summary and for people reading a run.
    mode: Optional[str] = None
    rule: Optional[str] = None
    draft_outcome: Optional[str] = None
    draft_confidence: Optional[float] = None
    draft_text: Optional[str] = None
    sentiment: Optional[float] = None
    reason: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    #: the same laps in CPU time of this process: on a shared machine wall time also counts the
    #: time other processes hold the core, CPU time only this chain's work
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    verification: Optional[Verification] = None  # every check's result, for tests and people reading a run

    @property
    def gated_confidence(self) -> Optional[float]:
        """The confidence the verifier compares with the category's threshold (see summary.py)."""
        from services.verifier.checks.confidence import gated_confidence

        if self.confidence is None or self.draft_confidence is None:
            return self.confidence
        return gated_confidence(self.confidence, self.draft_confidence)

    def report_entry(self) -> dict:
        return {"id": self.id, "locale": self.locale, "category": self.category, "confidence": self.confidence,
                "out_of_scope": self.out_of_scope, "action": self.action, "queue": self.queue,
                "verdict": self.verdict, "failed_checks": list(self.failed_checks),
                "citations": list(self.citations), "reply": self.reply}


def next_business_moment(policy: TenantPolicy, after: dt.datetime) -> dt.datetime:
    """The middle of the tenant's next business-hours interval at least two hours long.

    The middle, so a ticket is neither at the opening edge nor close to closing time
    (where queue hours and SLA risk would change the route).
    """
    calendar = BusinessCalendar(policy.business_hours)
    for opens, closes in calendar.open_intervals(after):
        if closes - opens >= dt.timedelta(hours=2):
            middle = opens + (closes - opens) / 2
            return middle.replace(minute=0, second=0, microsecond=0)
    raise ChainError(f"tenant {policy.tenant!r} has no business-hours interval of two hours")


class DecisionChain:
    """The five stages for one tenant, built once (models, knowledge base, verifiers)."""

    def __init__(self, tenant: str, *, tenants_dir: Path, knowledge_dir: Path, work_dir: Path,
                 intent_model: Optional[Path] = None, templates=None, progress: Callable[[str], None] = lambda _: None):
        """``intent_model``: triage's intent model folder (default: triage's settings, i.e. the packaged one);
        ``templates``: the drafter's ``ReplyTemplates`` for the tenant (default: the built-in set)."""
        from casetrail.embeddings import default_embedder
        from casetrail.knowledge.catalogue import Catalogue
        from casetrail.knowledge.clauses import KnowledgeBaseError
        from casetrail.knowledge.index import RetrievalIndex
        from casetrail.knowledge.publish import publish
        from casetrail.knowledge.store import KnowledgeBase
        from casetrail.knowledge.vector_cache import VectorCache
        from casetrail import knowledge
        from services.drafter.drafting import Drafter
        from services.drafter.settings import DrafterSettings
        from services.ingest.locale_detection import LocaleDetector
        from services.ingest.normalise import Normaliser
        from services.triage.settings import TriageSettings
        from services.triage.triager import Triager
        from services.verifier.engine import build_verifiers, default_dependencies

        policies = load_policies(tenants_dir)
        if tenant not in policies:
            raise ChainError(f"no policy for tenant {tenant!r} in {tenants_dir} (have: {', '.join(policies)})")
        self.tenant = tenant
        self.policy = policies[tenant]
        self.policies = {tenant: self.policy}
        source = knowledge_dir / tenant
        if not source.is_dir():
            raise ChainError(f"no knowledge base for tenant {tenant!r} at {source}")

        progress("loading the locale detector and the triage models ...")
        detector = LocaleDetector()
        detector.warm_up()
        self.normaliser = Normaliser(locale_detector=detector, default_locales={tenant: self.policy.default_locale})
        embedder = default_embedder()
        triage_settings = TriageSettings(triage_intent_model=intent_model) if intent_model else TriageSettings()
        self.triager = Triager.default(embedder, settings=triage_settings)

        progress(f"publishing the knowledge base {source} into a scratch catalogue ...")
        catalogue_path = Path(work_dir) / "catalogue.sqlite3"
        catalogue = Catalogue(catalogue_path)
        try:
            # The vector cache spares re-embedding the KB's ~3,400 clause texts and questions on every run.
            published = publish(source, embedder=embedder, catalogue=catalogue, tenant=tenant, human_version="eval",
                                vector_cache=VectorCache.from_settings())
        except KnowledgeBaseError as exc:
            raise ChainError(str(exc)) from exc
        self.kb_versions = {result.locale: result.version.kb_version for result in published}
        store = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder)
        store.warm([(tenant, locale) for locale in self.policy.locales])
        # The drafter's own settings choose its composer, grounding floor and answer-confidence model, as
        # in the service: with CASETRAIL_DRAFTER_LLM_URL set, the evaluation measures the LLM composer.
        try:
            self.drafter = Drafter.from_settings(store, self.policies, DrafterSettings(),
                                                 producer=ProducerInfo(service="drafter", version="eval"),
                                                 templates={tenant: templates} if templates is not None else {})
        except ValueError as exc:
            raise ChainError(str(exc)) from exc
        resolver = functools.partial(knowledge.resolve, catalogue_path=catalogue_path)
        self.verifiers = build_verifiers(self.policies, default_dependencies(resolver))
        self.producers = {name: ProducerInfo(service=name, version="eval") for name in STAGES}

    @property
    def versions(self) -> dict[str, str]:
        return {"triage": self.triager.model_version, "policy": self.policy.fingerprint,
                "composer": self.drafter.composer.name,
                **{f"knowledge_base.{locale}": version for locale, version in sorted(self.kb_versions.items())}}

    def received(self, ticket: EvalTicket, at: dt.datetime):
        """Ingest's ``ConversationReceived`` for the ticket (a new customer each time); raises ``Rejected``."""
        from services.ingest.normalise import IntakeRecord
        from services.ingest.processing import IngestProcessor

        source, payload, content_type = intake_payload(ticket, at)
        record = IntakeRecord(tenant=self.tenant, source=source, payload=payload, content_type=content_type,
                              received_at=at)
        # A new customer per ticket: fresh idempotency and re-contact state.
        return IngestProcessor(self.normaliser, {}, {}).process(record, position=f"eval:{ticket.id}",
                                                                now=at.timestamp()).conversation

    def triaged(self, received, at: dt.datetime):
        from services.triage.triager import triaged_event

        outcome = self.triager.triage(received, None, self.policy, now=at)
        return triaged_event(received, outcome, self.policy, self.producers["triage"])

    def decide(self, ticket: EvalTicket, at: dt.datetime) -> TicketDecision:
        from services.drafter.llm import LlmError
        from services.ingest.rejections import Rejected
        from services.router.decide import route

        seconds: dict[str, float] = {}
        cpu_seconds: dict[str, float] = {}
        clock, cpu_clock = time.perf_counter(), time.process_time()

        def lap(stage: str) -> None:
            nonlocal clock, cpu_clock
            now, cpu_now = time.perf_counter(), time.process_time()
            seconds[stage], cpu_seconds[stage] = now - clock, cpu_now - cpu_clock
            clock, cpu_clock = now, cpu_now

        try:
            received = self.received(ticket, at)
        except Rejected as rejected:
            lap("ingest")
            return TicketDecision(id=ticket.id, locale=None, category=None, confidence=None, out_of_scope=None,
                                  action="rejected", queue=None, verdict=None, failed_checks=[], citations=[],
                                  reply=None, reason=f"{rejected.reason_code}: {rejected.reason}", seconds=seconds,
                                  cpu_seconds=cpu_seconds)
        lap("ingest")
        if received is None:
            return TicketDecision(id=ticket.id, locale=None, category=None, confidence=None, out_of_scope=None,
                                  action="drop", queue=None, verdict=None, failed_checks=[], citations=[], reply=None,
                                  reason="ingest produced no conversation (duplicate or an answer)", seconds=seconds,
                                  cpu_seconds=cpu_seconds)
        triaged = self.triaged(received, at)
        lap("triage")
        try:
            proposed = self.drafter.draft(triaged)
        except LlmError as exc:  # the service would retry it; an evaluation stops with the reason
            raise ChainError(f"ticket {ticket.id!r}: {exc} ({self.drafter.composer.name} composer); "
                             f"the evaluation stopped") from exc
        lap("draft")
        report = self.verifiers.verify(proposed)
        verified = self.verifiers.verified_event(proposed, report, self.producers["verify"])
        lap("verify")
        routed = route(verified, self.policy, at, self.producers["route"])
        lap("route")
        decision = routed.decision
        result = triaged.triage
        sent = [reply for reply in routed.replies if reply.kind.value == "answer"]
        return TicketDecision(
            id=ticket.id, locale=received.locale, category=result.category, confidence=result.intent_confidence,
            out_of_scope=result.out_of_scope, action=decision.action.value, queue=decision.queue,
            verdict=verified.verification.verdict.value,
            failed_checks=[check.name for check in verified.verification.failed_checks],
            citations=[f"{c.clause_id}@{c.kb_version}" for c in proposed.draft.citations],
            reply=sent[0].body if sent else None,
            mode=decision.mode.value, rule=decision.rule, draft_outcome=proposed.draft.outcome.value,
            draft_confidence=proposed.draft.confidence, draft_text=proposed.draft.reply_text,
            sentiment=result.sentiment, reason=decision.reason, seconds=seconds, cpu_seconds=cpu_seconds,
            verification=verified.verification,
        )


def build_chain(tenant: str, *, tenants_dir: Path, knowledge_dir: Path, intent_model: Optional[Path] = None,
                templates=None,
                progress: Callable[[str], None] = lambda _: None) -> tuple[DecisionChain, tempfile.TemporaryDirectory]:
    """The chain and the scratch folder that holds its catalogue (clean it up when done)."""
    scratch = tempfile.TemporaryDirectory(prefix="casetrail-eval-")
    return DecisionChain(tenant, tenants_dir=tenants_dir, knowledge_dir=knowledge_dir, work_dir=Path(scratch.name),
                         intent_model=intent_model, templates=templates, progress=progress), scratch
