"""Issue 17: a suspected injection forces a human whatever the mode; automated messages are never answered."""

from casetrail.events import AutomatedKind, Verdict
from services.router.decide import route
from tests.unit.router.factories import OPEN_NOW, PRODUCER, acme, verified


def test_suspected_injection_is_never_sent_even_when_the_verdict_passed():
    event = verified(failed_checks=(("injection_echo", "suspected injection: a person decides"),), verdict=Verdict.passed)
    outcome = route(event, acme(), OPEN_NOW, PRODUCER)
    assert outcome.decision.action.value != "send" and not outcome.replies
    assert "suspected prompt injection" in outcome.decision.reason


def test_an_auto_reply_is_dropped_without_any_reply():
    event = verified()
    conversation = event.conversation.model_copy(update={"automated": AutomatedKind.auto_reply,
                                                         "automated_signal": "Auto-Submitted: auto-replied"})
    outcome = route(event.model_copy(update={"conversation": conversation}), acme(), OPEN_NOW, PRODUCER)
    assert outcome.decision.action.value == "drop" and not outcome.replies
    assert "auto_reply" in outcome.decision.reason
