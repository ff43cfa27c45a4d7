"""An agent's edit is verified with the same checks as a draft, against the original's clauses."""

from casetrail.events import AgentFeedback, FeedbackAction, ProducerInfo, Verdict
from services.verifier.agent_edits import edit_draft_id, edited_draft_event, remembered
from services.verifier.engine import build_verifier

from verifier_fixtures import DISCLOSURE_EN, V, make_event

VERIFIER = ProducerInfo(service="verifier", version="t")


def edit(original, text: str, action=FeedbackAction.edit, draft_id=None) -> AgentFeedback:
    return AgentFeedback(conversation_id=original.conversation_id, tenant=original.tenant, locale=original.locale,
                         producer=ProducerInfo(service="review", version="t"), draft_id=draft_id or original.draft.draft_id,
                         agent_id="ana", action=action, edited_text=text)


def failed_checks(event, policy, deps):
    report = build_verifier(policy, deps).verify(event)
    return report.verification, {c.name for c in report.verification.failed_checks if c.severity == "failed"}


def test_an_edit_that_keeps_the_clause_and_its_number_passes(policy, deps):
    original = make_event()
    text = (f"Hello,\nYou can return any item within 30 days of delivery for a full refund. [refunds.window@{V}]\n"
            f"Kind regards,\nAcme Shop\n{DISCLOSURE_EN}")
    edited = edited_draft_event(original, producer=VERIFIER, feedback=edit(original, text))
    assert edited.draft.composer == "agent:ana"
    assert edited.draft.citations[0].ref == f"refunds.window@{V}"
    assert edited.draft.retrieved == original.draft.retrieved
    verification, failed = failed_checks(edited, policy, deps)
    assert failed == set(), verification.checks


def test_an_edit_with_a_wrong_number_fails_numbers_against_the_cited_clause(policy, deps):
    original = make_event()
    text = (f"You can return any item within 45 days of delivery for a full refund. [refunds.window@{V}]\n"
            f"{DISCLOSURE_EN}")
    verification, failed = failed_checks(edited_draft_event(original, producer=VERIFIER, feedback=edit(original, text)), policy, deps)
    assert verification.verdict == Verdict.failed
    assert "statements_supported" in failed


def test_an_edit_without_the_disclosure_or_citations_fails(policy, deps):
    original = make_event()
    _, failed = failed_checks(edited_draft_event(original, producer=VERIFIER, feedback=edit(original, "Sure, send it back whenever.")), policy, deps)
    assert {"citations_resolve", "ai_disclosure"} <= failed


def test_an_edit_with_an_email_address_fails_personal_data(policy, deps):
    original = make_event()
    text = (f"Write to jane.doe@example.com: returns are possible within 30 days of delivery for a full refund. "
            f"[refunds.window@{V}]\n{DISCLOSURE_EN}")
    _, failed = failed_checks(edited_draft_event(original, producer=VERIFIER, feedback=edit(original, text)), policy, deps)
    assert "personal_data" in failed


def test_only_edits_of_the_latest_draft_become_drafts():
    original = make_event()
    assert edited_draft_event(original, producer=VERIFIER, feedback=edit(original, "x", action=FeedbackAction.approve)) is None
    assert edited_draft_event(original, producer=VERIFIER, feedback=edit(original, "x", draft_id="older")) is None


def test_the_remembered_draft_round_trips_without_the_embedding():
    from casetrail.events import DraftProposed

    original = make_event()
    assert DraftProposed.model_validate(remembered(original)).draft == original.draft
    assert edit_draft_id("d-1", "0123456789abcdef").startswith("d-1+edit-")


def test_an_edit_that_kept_the_composers_numbered_marker_cites_the_originals_clause(policy, deps):
    original = make_event(inline=False)
    text = f"You can return any item within 30 days of delivery for a full refund. [1]\n{DISCLOSURE_EN}"
    edited = edited_draft_event(original, producer=VERIFIER, feedback=edit(original, text))
    assert [c.ref for c in edited.draft.citations] == [f"refunds.window@{V}"]


def test_a_redelivered_edit_derives_the_same_draft_and_envelope_from_the_feedback():
    original = make_event()
    feedback = edit(original, "You can return any item within 30 days.")
    first, again = (edited_draft_event(original, feedback, VERIFIER) for _ in range(2))
    assert first.event_id == again.event_id == feedback.derive("agent-edit", VERIFIER)["event_id"]
    assert first.causation_id == feedback.event_id
    assert first.draft.draft_id == again.draft.draft_id
    assert first.producer == VERIFIER


def test_the_remembered_draft_names_its_customer_for_erasure():
    from casetrail.privacy.customer_key import customer_key
    from services.verifier.agent_edits import draft_customer

    event = make_event(customer_id="cust-7")
    stored = remembered(event)
    assert draft_customer(event.conversation_id, stored) == customer_key(event.tenant, "cust-7")
    assert draft_customer(event.conversation_id, make_event(customer_id="cust-8").model_dump(mode="json")) != \
        customer_key(event.tenant, "cust-7")
