"""From ticket lines to what triage decided, through ingest and triage's own functions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from casetrail.embeddings import Embedder, TextKind
from casetrail.events.conversation import ConversationReceived
from casetrail.events.triage import TriageResult
from casetrail.policy.tenant import TenantPolicy
from casetrail_tools.decision_eval.dev_halves import half_of
from casetrail_tools.decision_eval.tickets import EvalTicket, intake_payload, read_tickets

#: a fixed moment inside the sample tenant's business hours (a Wednesday, 11:00 in Vilnius)
DEFAULT_AT = dt.datetime(2026, 12, 9, 9, 0, tzinfo=dt.timezone.utc)


def read_ticket_files(paths: Iterable[Path]) -> list[EvalTicket]:
    """Tickets of every ``*.jsonl`` under the given files or folders, in name order."""
    tickets: list[EvalTicket] = []
    for path in paths:
        files = sorted(Path(path).glob("*.jsonl")) if Path(path).is_dir() else [Path(path)]
        for file in files:
            tickets.extend(read_tickets(file))
    return tickets


class CachingEmbedder:
    """The embedder under another's name, with vectors kept on disk between runs (same vectors)."""

    def __init__(self, embedder: Embedder, cache_dir: Path) -> None:
        from services.triage.offline.embedding_cache import EmbeddingCache

        self.inner = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.cache = EmbeddingCache(embedder, cache_dir)
        counter = getattr(embedder, "token_count", None)
        if counter is not None:
            self.token_count = counter  # triage bounds what the embedding reads with it

    def embed(self, texts: Sequence[str], kind: TextKind = "query") -> np.ndarray:
        return self.cache.embed(list(texts), kind=kind)


@dataclass(frozen=True)
class TriagedTicket:
    ticket: EvalTicket
    half: str
    locale: str  # what ingest decided (``und`` when it did not know)
    locale_status: str
    result: Optional[TriageResult]  # None when ingest refused the ticket
    text: str  # what triage read (after redaction), for the intent model's features
    embedding: Optional[np.ndarray]
    reason: str = ""


def triage_tickets(tickets: Sequence[EvalTicket], triager, policy: TenantPolicy, normaliser,
                   at: dt.datetime = DEFAULT_AT, advance: Callable[[int], None] = lambda _: None) -> list[TriagedTicket]:
    from services.ingest.normalise import IntakeRecord
    from services.ingest.rejections import Rejected
    from services.triage.text_input import prepare_text

    out: list[TriagedTicket] = []
    for ticket in tickets:
        source, payload, content_type = intake_payload(ticket, at)
        record = IntakeRecord(tenant=policy.tenant, source=source, payload=payload, content_type=content_type,
                              received_at=at)
        try:
            received: ConversationReceived = normaliser.normalise(record).event
        except Rejected as rejected:
            out.append(TriagedTicket(ticket, half_of(ticket.id), "und", "rejected", None, "", None,
                                     reason=rejected.reason_code))
            advance(1)
            continue
        outcome = triager.triage(received, None, policy, now=at)
        result = outcome.result
        text = prepare_text(received.conversation.ticket_text()).text
        vector = np.asarray(result.embedding, dtype=np.float32) if result.embedding else None
        out.append(TriagedTicket(ticket, half_of(ticket.id), received.locale,
                                 received.conversation.locale_status.value, result, text, vector))
        advance(1)
    return out
