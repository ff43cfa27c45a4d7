"""The verifier's verdict on an agent's edit: passed is sent under the original key, failed goes back."""

from casetrail.events import CheckResult, Verdict
from casetrail.events.decision import Action
from factories import OPEN_NOW, PRODUCER, acme, verified
from services.router.agent_edits import EDIT_OF_OLDER_DRAFT, apply_verified_edit, is_agent_edit
from services.router.case import CaseStatus
from services.router.decide import route


def record():
    return route(verified(confidence=0.5), acme(), OPEN_NOW, PRODUCER).case


def edit_event(passed: bool, draft_id: str = "draft-1+edit-abcd1234"):
    event = verified(draft_id=draft_id, verdict=Verdict.passed if passed else Verdict.failed,
                     failed_checks=() if passed else (("statements_supported", "'9 days' is not in shipping-1@kb-7"),))
    draft = event.draft.model_copy(update={"composer": "agent:ana", "reply_text": "Edited [shipping-1@kb-7]."})
    return event.model_copy(update={"draft": draft})


def test_a_passed_edit_is_sent_as_the_agent_under_the_original_drafts_key():
    event = edit_event(True)
    assert is_agent_edit(event)
    outcome = apply_verified_edit(record(), event, PRODUCER, OPEN_NOW)
    assert outcome.reply.body == "Edited [shipping-1@kb-7]."
    assert outcome.reply.idempotency_key == "conv-1:draft-1"
    assert outcome.reply.sent_by == "agent:ana"
    assert outcome.case.status == CaseStatus.answered and outcome.decision is None


def test_a_failed_edit_goes_back_to_review_with_the_failed_check_and_sends_nothing():
    outcome = apply_verified_edit(record(), edit_event(False), PRODUCER, OPEN_NOW)
    assert outcome.reply is None
    assert outcome.decision.action == Action.review
    assert outcome.decision.brief.not_sent_because == [
        "check statements_supported failed: '9 days' is not in shipping-1@kb-7"]


def test_a_needs_human_check_does_not_stop_an_agents_edit():
    event = edit_event(True)
    checks = [*event.verification.checks, CheckResult(name="confidence_threshold", passed=False, severity="needs_human")]
    event = event.model_copy(update={"verification": event.verification.model_copy(update={"checks": checks})})
    assert apply_verified_edit(record(), event, PRODUCER, OPEN_NOW).reply is not None


def test_an_edit_of_an_older_draft_is_never_sent():
    outcome = apply_verified_edit(record(), edit_event(True, draft_id="draft-0+edit-1"), PRODUCER, OPEN_NOW)
    assert outcome.reply is None and outcome.note == EDIT_OF_OLDER_DRAFT


def test_a_redelivered_failed_edit_derives_the_same_decision_from_the_verdict():
    event = edit_event(False)
    first, again = (apply_verified_edit(record(), event, PRODUCER, OPEN_NOW).decision for _ in range(2))
    assert first.event_id == again.event_id == event.derive("edit-refused", PRODUCER)["event_id"]
    assert first.causation_id == event.event_id
