"""Routed cases for delivery's benchmark: conversations decided by the real router logic.

Tooling may import any service (services may not import each other), so the delivery benchmark
gets its decisions here. The verified drafts come from the router's test factories.
"""

from __future__ import annotations

import sys

from casetrail.events import ConversationReceived, ProducerInfo
from casetrail.settings import REPO_ROOT

PRODUCER = ProducerInfo(service="bench", version="1")


def routed_cases(n: int, run: str, *, tenant: str = "acme-shop", platform: str = "zendesk", escalate_every: int = 0):
    """(ConversationReceived, RoutingOutcome) for ``n`` conversations on ``platform``; every
    ``escalate_every``-th is a fraud report (escalated: note + update), the rest answered."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from services.router.decide import route
    from tests.unit.router.factories import OPEN_NOW, acme, verified

    policy, out = acme(), []
    for i in range(n):
        kwargs = {"category": "fraud_report", "confidence": 0.97} if escalate_every and i % escalate_every == 0 else {}
        event = verified(conversation_id=f"{run}-{i}", draft_id=f"{run}-d{i}", **kwargs)
        conversation = event.conversation.model_copy(update={"source": platform, "external_id": str(100000 + i)})
        event = event.model_copy(update={"conversation": conversation})
        outcome = route(event, policy, OPEN_NOW, PRODUCER)
        out.append((ConversationReceived(conversation_id=event.conversation_id, tenant=tenant, locale="en",
                                         producer=PRODUCER, conversation=conversation), outcome))
    return out
