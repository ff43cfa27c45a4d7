"""The LLM composer against a local HTTP server that speaks OpenAI chat completions."""

from __future__ import annotations

import json

import pytest
from drafter_testing import triaged

from casetrail.events import DraftOutcome, ProducerInfo
from services.drafter.drafting import Drafter, DrafterConfig
from services.drafter.llm import PROMPT_VERSION, LlmComposer, LlmError
from services.drafter.settings import DrafterSettings
from tests.support.chat_completions import ChatServer

LOW = DrafterConfig(min_score=0.2)


@pytest.fixture
def chat():
    server = ChatServer()
    yield server
    server.close()


def drafter_with(chat, knowledge, policy):
    return Drafter(knowledge, {"acme-shop": policy}, composer=LlmComposer(chat.url, "test-model", api_key="k"), config=LOW)


QUESTION = "Can I return an item within 30 days of delivery for a full refund?"


def test_valid_citations_become_markers_and_citations(chat, knowledge, policy):
    chat.replies.append((200, json.dumps({"sentences": [
        {"text": "You can return any item within 30 days of delivery for a full refund.", "citations": [1]},
        {"text": "Thanks for shopping with us.", "citations": []},
    ]})))
    proposed = drafter_with(chat, knowledge, policy).draft(triaged(QUESTION))
    draft = proposed.draft
    assert draft.outcome == DraftOutcome.drafted and draft.composer == "llm"
    assert [c.clause_id for c in draft.citations] == [draft.retrieved[0].clause_id]
    assert "for a full refund. [1]" in draft.reply_text and draft.disclosure in draft.reply_text
    assert proposed.versions.model.startswith("test-model+answer-confidence@")
    assert proposed.versions.prompt == PROMPT_VERSION
    # One of two sentences cited: coverage 0.5 halves the answer confidence.
    drafter = drafter_with(chat, knowledge, policy)
    answer = drafter.retrieve(triaged(QUESTION)).answer
    assert draft.confidence == round(drafter.answer_confidence.probability(answer.features) * 0.5, 4)
    request = chat.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer k"
    assert request["body"]["model"] == "test-model"
    assert "[1] (" in request["body"]["messages"][1]["content"] and QUESTION in request["body"]["messages"][1]["content"]


def test_invalid_indexes_are_dropped_and_flagged(chat, knowledge, policy):
    chat.replies.append((200, "```json\n" + json.dumps({"sentences": [
        {"text": "Returns are accepted within 30 days.", "citations": [1, 99, "2", -1]},
    ]}) + "\n```"))
    draft = drafter_with(chat, knowledge, policy).draft(triaged(QUESTION)).draft
    assert draft.outcome == DraftOutcome.drafted
    assert len(draft.citations) == 1 and "llm_invalid_citation" in draft.flags


def test_a_draft_without_valid_citations_is_refused(chat, knowledge, policy):
    chat.replies.append((200, json.dumps({"sentences": [{"text": "Sure, 90 days is fine!", "citations": [42]}]})))
    draft = drafter_with(chat, knowledge, policy).draft(triaged(QUESTION)).draft
    assert draft.outcome == DraftOutcome.no_grounding and draft.citations == []
    assert "90 days" not in draft.reply_text and draft.reply_text  # the holding reply, not the model's text
    assert {"llm_invalid_citation", "llm_no_valid_citation"} <= set(draft.flags)


def test_unparseable_answer_is_refused(chat, knowledge, policy):
    chat.replies.append((200, "I think you can return it."))
    draft = drafter_with(chat, knowledge, policy).draft(triaged(QUESTION)).draft
    assert draft.outcome == DraftOutcome.no_grounding and "llm_unparseable" in draft.flags


def test_server_errors_are_transient_client_errors_are_not(chat, knowledge, policy):
    drafter = drafter_with(chat, knowledge, policy)
    chat.replies.append((503, ""))
    with pytest.raises(LlmError) as caught:
        drafter.draft(triaged(QUESTION))
    assert caught.value.transient
    chat.replies.append((400, ""))
    draft = drafter.draft(triaged(QUESTION)).draft
    assert draft.outcome == DraftOutcome.no_grounding and "llm_error" in draft.flags


def test_the_drafter_its_settings_describe_composes_with_the_endpoint_they_name(chat, knowledge, policy, tmp_path):
    settings = DrafterSettings(drafter_llm_url=chat.url, drafter_llm_model="test-model", drafter_min_score=0.2)
    drafter = Drafter.from_settings(knowledge, {"acme-shop": policy}, settings,
                                    producer=ProducerInfo(service="drafter", version="test"), templates={})
    assert (drafter.composer.name, drafter.config.min_score) == ("llm", 0.2)
    broken = tmp_path / "answer-confidence.json"
    broken.write_text("{}")
    with pytest.raises(ValueError, match="not an answer-confidence model"):
        Drafter.from_settings(knowledge, {}, DrafterSettings(drafter_answer_confidence_path=str(broken)),
                              producer=ProducerInfo(service="drafter", version="test"), templates={})
    with pytest.raises(ValueError, match="CASETRAIL_DRAFTER_LLM_MODEL is not"):
        Drafter.from_settings(knowledge, {}, DrafterSettings(drafter_llm_url=chat.url),
                              producer=ProducerInfo(service="drafter", version="test"), templates={})
