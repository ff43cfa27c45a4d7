"""Raw records in, cases and evaluation examples out: the console's projection of the log.

``Projector.apply`` takes record values exactly as read from the topics (or
as the console itself published them), stores the ones that belong to a
conversation, refolds every conversation that got a new event, and turns
each agent verdict into a sealed evaluation example. ``PersonalDataErased``
deletes everything the store keeps of the customer's conversations (events,
cases, examples, the details of agents' actions; found by the customer key each
conversation's ``DraftVerified`` names), and the examples sealed under the key;
their events of before the erasure are not stored again (a replay of the log). Redelivered records change nothing: events are deduplicated by
id and a refold of the same events gives the same case.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from casetrail.codec import AvroCodec, DecodeError
from casetrail.events import EVENT_TYPES
from casetrail.privacy.customer_key import customer_key

from services.review import metrics
from services.review.cases import Case, fold_case, sealed_view
from services.review.examples import example_of
from services.review.store import ReviewStore

log = logging.getLogger("casetrail.review")

# Event types a case is folded from.
CASE_EVENT_TYPES = ("DraftVerified", "RoutedDecision", "AgentFeedback", "ReplyOutbound", "SlaEvent",
                    "DeliveryReceipt")


@dataclass
class ApplyResult:
    stored: int = 0
    cases: int = 0
    examples: int = 0
    erased_examples: int = 0
    erased_cases: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


def _utc_text(moment: Any) -> str:
    """An event's ``occurred_at`` as text that sorts like the time (the store compares them)."""
    if not isinstance(moment, dt.datetime):
        return ""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decode_case_event(codec: AvroCodec, type_name: str, value: bytes) -> Any:
    """A stored value as the fold wants it: the typed event."""
    name, record = codec.decode_record(value)
    return EVENT_TYPES[name].model_validate(record)


class Projector:
    def __init__(self, store: ReviewStore, codec: AvroCodec, keystore: Any = None):
        self.store = store
        self.codec = codec
        self.keystore = keystore
        # The consumer thread and web requests (an agent's own action, shown at once) both apply:
        # one at a time, so a refold never overwrites a newer one.
        self._lock = threading.Lock()

    def apply(self, values: Iterable[bytes]) -> ApplyResult:
        with self._lock:
            return self._apply(values)

    def _apply(self, values: Iterable[bytes]) -> ApplyResult:
        result = ApplyResult()
        rows = []
        customers: dict[str, str] = {}  # conversation id -> customer key, from DraftVerified
        occurred_at: dict[str, str] = {}  # event id -> when
        for value in values:
            try:
                name, record = self.codec.decode_record(value)
            except DecodeError as exc:
                result.skipped[exc.reason_code] = result.skipped.get(exc.reason_code, 0) + 1
                continue
            if name == "PersonalDataErased":
                result.erased_examples += self.store.erase_key(record["key_id"])
                result.erased_cases += len(self.store.erase_customer(
                    customer_key(record["tenant"], record["customer_id"]), _utc_text(record["occurred_at"])))
                continue
            if name not in CASE_EVENT_TYPES or not record.get("conversation_id"):
                result.skipped[f"not_a_case_event:{name}"] = result.skipped.get(f"not_a_case_event:{name}", 0) + 1
                continue
            rows.append((record["event_id"], record["conversation_id"], record.get("tenant") or "", name, value))
            occurred_at[record["event_id"]] = _utc_text(record.get("occurred_at"))
            if name == "DraftVerified":
                customers[record["conversation_id"]] = customer_key(
                    record["tenant"], record["conversation"]["customer"]["customer_id"])
        touched = self.store.add_events(rows, customers=customers, occurred_at=occurred_at)
        result.stored = len(touched) and len(rows)
        if touched:
            cases, removed = self.refold(touched)
            result.cases = len(cases)
            result.examples = self.record_examples(cases)
        return result

    def refold(self, conversation_ids: Iterable[str]) -> tuple[list[Case], list[str]]:
        cases: list[Case] = []
        removed: list[str] = []
        for conversation_id in conversation_ids:
            events = []
            for type_name, value in self.store.event_values(conversation_id):
                try:
                    events.append(decode_case_event(self.codec, type_name, value))
                except (DecodeError, ValueError) as exc:  # stored bytes no longer readable: counted, not fatal
                    log.warning("stored event not readable", extra={"conversation_id": conversation_id,
                                                                    "error": type(exc).__name__})
            case = fold_case(events)
            if case is None:
                removed.append(conversation_id)
            else:
                cases.append(case)
        self.store.put_cases(cases, removed)
        return cases, removed

    def record_examples(self, cases: list[Case]) -> int:
        written = 0
        for case in cases:
            example = example_of(case)
            if example is None:
                continue
            sealed, key_id = self._seal(example)
            if sealed is None and self.keystore is not None:
                continue  # the customer's key is erased: the correction cannot become an example
            self.store.put_example(example_id=example.example_id, tenant=example.tenant, locale=example.locale,
                                   conversation_id=example.conversation_id, label=example.label, key_id=key_id,
                                   sealed_text=sealed, body=example.labels)
            metrics.EXAMPLES.labels(example.tenant, example.locale, example.label).inc()
            written += 1
        return written

    def _seal(self, example) -> tuple[Optional[str], Optional[str]]:
        """The example's free text sealed under the customer's key: (JSON of the sealed text, key id).

        Only under the key ingest sealed the original with: if that key is erased (also when the
        log is replayed after an erasure), sealing would mint a new key and bring the text back,
        so there is no example.
        """
        if self.keystore is None or not example.customer_id:
            # No key store (unit tests, a console without one): the text stays out of the store.
            return None, None
        from casetrail.privacy.keystore import KeyStoreError

        try:
            if example.original_key_id and self.keystore.is_erased(example.original_key_id):
                return None, None
            sealed = self.keystore.seal(example.tenant, example.customer_id,
                                        json.dumps(example.text, ensure_ascii=False))
        except KeyStoreError:
            return None, None
        if example.original_key_id and sealed.key_id != example.original_key_id:
            return None, None  # the original's key is gone and a new one was minted: not this customer's data
        return json.dumps(sealed_view(sealed)), sealed.key_id
