"""Every event type casetrail knows, by Avro schema name.

The pydantic models in this package are the one source: ``schemas/*.avsc`` are
generated from them (``casetrail schemas generate``) and a test fails when the
committed files drift from the models.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from casetrail.events.conversation import ConversationReceived, RecontactDetected
from casetrail.events.decision import AgentFeedback, ReplyOutbound, RoutedDecision, SlaEvent
from casetrail.events.delivery import DeliveryReceipt
from casetrail.events.draft import DraftProposed
from casetrail.events.envelope import AvroRecord
from casetrail.events.ingest_state import ConversationObserved, CustomerActivity
from casetrail.events.intake import IntakeTicket
from casetrail.events.operations import DeadLetter, KnowledgeBasePublished, PersonalDataErased, VersionGateDecided
from casetrail.events.triage import ConversationTriaged
from casetrail.events.verification import DraftVerified

EVENT_TYPES: dict[str, type[AvroRecord]] = {
    cls.__name__: cls
    for cls in (
        IntakeTicket,
        ConversationReceived,
        RecontactDetected,
        ConversationTriaged,
        DraftProposed,
        DraftVerified,
        RoutedDecision,
        ReplyOutbound,
        AgentFeedback,
        SlaEvent,
        DeliveryReceipt,
        DeadLetter,
        KnowledgeBasePublished,
        PersonalDataErased,
        VersionGateDecided,
        ConversationObserved,
        CustomerActivity,
    )
}

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"


def full_name(name: str) -> str:
    return f"io.casetrail.events.{name}"


def _record_models() -> dict[str, type[AvroRecord]]:
    found: dict[str, type[AvroRecord]] = {}
    pending = [AvroRecord]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            found[sub.__name__] = sub
            pending.append(sub)
    return found


def _drop_generated_defaults(schema, models: dict[str, type[AvroRecord]]) -> None:
    """Fields filled by a factory (event ids, timestamps) get no Avro default.

    The schema generator would otherwise bake one call's result (a random
    UUID, the current time) into the schema text, so it would change on
    every run. Empty-list and empty-map defaults stay: they are real defaults.
    """
    if isinstance(schema, list):
        for item in schema:
            _drop_generated_defaults(item, models)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "record":
        model = models.get(schema["name"].rsplit(".", 1)[-1])
        for avro_field in schema["fields"]:
            info = model.model_fields.get(avro_field["name"]) if model else None
            if info is not None and info.default_factory not in (None, list, dict):
                avro_field.pop("default", None)
            _drop_generated_defaults(avro_field["type"], models)
    elif schema.get("type") == "array":
        _drop_generated_defaults(schema["items"], models)
    elif schema.get("type") == "map":
        _drop_generated_defaults(schema["values"], models)


@cache
def schema_of(name: str) -> dict:
    """The current (reader) schema of an event type, generated from its model."""
    schema = json.loads(EVENT_TYPES[name].avro_schema())
    _drop_generated_defaults(schema, _record_models())
    return schema


def schema_text(name: str) -> str:
    """Canonical JSON text as committed under ``schemas/``."""
    return json.dumps(schema_of(name), indent=2, sort_keys=False) + "\n"


def released_schemas(name: str, schemas_dir: Path = SCHEMAS_DIR) -> list[tuple[str, dict]]:
    """Every released writer schema of ``name``: ``schemas/released/<name>/v<N>.avsc``."""
    folder = schemas_dir / "released" / name
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("v*.avsc"), key=lambda p: int(p.stem[1:]))
    return [(p.stem, json.loads(p.read_text())) for p in files]
