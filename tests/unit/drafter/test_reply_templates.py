"""Reply templates as versions: a file over the built-in set, refused when it could not be served,
and the drafter writing a tenant's drafts with its promoted set (the gate's ``template`` kind)."""

from __future__ import annotations

import json

import pytest
from drafter_testing import triaged

from casetrail.events import DraftOutcome
from casetrail.promotions import PromotedVersions
from services.drafter import messages
from services.drafter.app import served_templates
from services.drafter.drafting import Drafter, DrafterConfig
from services.drafter.templates import (BUILTIN, TemplateFileError, load_templates, problems,
                                        repeats_rejected_wording)

LOW = DrafterConfig(min_score=0.2)  # thresholds for the hashing test embedder
FRIENDLIER = """
closing:
  en: "Write back any time if something is still open."
openers:
  en:
    order_status: "Thanks for checking in on your order{about}."
"""


def write(tmp_path, text: str, name: str = "templates.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_built_in_set_is_servable():
    assert problems(BUILTIN) == []
    assert BUILTIN.version == messages.TEMPLATE_VERSION


def test_a_file_changes_only_the_lines_it_names(tmp_path):
    templates = load_templates(write(tmp_path, FRIENDLIER), "friendlier-v2")
    assert templates.version == "friendlier-v2"
    assert templates.opener("en", "order_status", "A-1") == "Thanks for checking in on your order (order A-1)."
    assert templates.text("closing", "en") == "Write back any time if something is still open."
    # everything else is the built-in text
    assert templates.opener("en", "invoice", None) == BUILTIN.opener("en", "invoice", None)
    assert templates.text("closing", "de") == messages.CLOSING["de"]
    assert templates.text("disclosure", "en") == messages.DISCLOSURE["en"]
    # a folder holding templates.yaml reads the same
    assert load_templates(tmp_path, "folder").opener("en", "order_status", None) == "Thanks for checking in on your order."


@pytest.mark.parametrize("text, problem", [
    ("closing:\n  en: ''\n", "closing.en: empty"),
    ("closing:\n  en: 'Refunds take 14 days to arrive.'\n", "closing.en: states a fact or policy term"),
    ("openers:\n  en:\n    invoice: 'About your invoice {order}.'\n", "openers.en.invoice: placeholder {order}"),
    ("openers:\n  xx:\n    invoice: 'About your invoice.'\n", "openers.xx: no _default line"),
    ("signature:\n  en: 'Your team'\n", "unknown table 'signature'"),
    ("closing: 'one line for all'\n", "closing must map locales to lines"),
    ("closing: [unclosed\n", "unreadable"),
])
def test_a_file_that_could_not_be_served_is_refused_naming_the_line(tmp_path, text, problem):
    with pytest.raises(TemplateFileError) as refused:
        load_templates(write(tmp_path, text), "bad")
    assert problem in str(refused.value)
    assert str(tmp_path / "templates.yaml") in str(refused.value)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(TemplateFileError, match="unreadable"):
        load_templates(tmp_path / "nowhere.yaml", "gone")


def test_a_draft_repeats_rejected_wording_only_through_framing_lines(tmp_path):
    rejected = "Hello,\n\nThank you for asking about your order (order 7).\n\nWe ship in 2 days. [1]\n\n" \
               f"{messages.CLOSING['en']}\n\n-- {messages.DISCLOSURE['en']}"
    same = rejected.replace("(order 7)", "(order 9)")
    assert repeats_rejected_wording(BUILTIN, "en", same, rejected) is True
    reworded = load_templates(write(tmp_path, FRIENDLIER), "friendlier-v2")
    new_text = "Hello,\n\nThanks for checking in on your order.\n\nWe ship in 2 days. [1]\n\n" \
               f"Write back any time if something is still open.\n\n-- {messages.DISCLOSURE['en']}"
    # the same greeting, clause sentence and the required disclosure are not the wording objected to
    assert repeats_rejected_wording(reworded, "en", new_text, rejected) is False
    assert repeats_rejected_wording(BUILTIN, "en", same, None) is False


def test_the_drafter_writes_with_the_tenants_templates(knowledge, policy, tmp_path):
    templates = load_templates(write(tmp_path, FRIENDLIER), "friendlier-v2")
    built_in = Drafter(knowledge, {"acme-shop": policy}, config=LOW)
    promoted = Drafter(knowledge, {"acme-shop": policy}, config=LOW, templates={"acme-shop": templates})
    event = triaged("Where is my order? It has not arrived yet.", intent="order_status")
    before, after = built_in.draft(event), promoted.draft(event)
    assert after.draft.outcome == DraftOutcome.drafted
    assert "Thanks for checking in on your order" in after.draft.reply_text
    assert messages.CLOSING["en"] not in after.draft.reply_text
    assert after.versions.prompt == "friendlier-v2" and before.versions.prompt == messages.TEMPLATE_VERSION
    assert [c.ref for c in after.draft.citations] == [c.ref for c in before.draft.citations]
    # another wording is another draft; the built-in set keeps the ids drafts always had
    assert after.draft.draft_id != before.draft.draft_id
    assert built_in.draft(event).draft.draft_id == before.draft.draft_id


def test_a_holding_reply_uses_the_tenants_templates(knowledge, policy, tmp_path):
    templates = load_templates(write(tmp_path, "holding:\n  en: 'A colleague will answer you personally.'\n"), "h-2")
    drafter = Drafter(knowledge, {"acme-shop": policy}, config=DrafterConfig(min_score=0.99),
                      templates={"acme-shop": templates})
    proposed = drafter.draft(triaged("zzz qqq xxyy", intent="place_order"))
    assert proposed.draft.outcome == DraftOutcome.no_grounding
    assert proposed.draft.reply_text.startswith("A colleague will answer you personally.")
    assert proposed.versions.prompt == "h-2"


def test_the_service_serves_the_promoted_templates_and_refuses_a_broken_promotion(tmp_path):
    promotions = tmp_path / "promoted.json"
    assert served_templates({"acme-shop": None}, promotions) == {}
    source = write(tmp_path, FRIENDLIER)
    PromotedVersions(promotions).record("acme-shop", "template", version="friendlier-v2", source=str(source),
                                        outcome="promoted", error_rate=0.1)
    served = served_templates({"acme-shop": None, "other": None}, promotions)
    assert list(served) == ["acme-shop"] and served["acme-shop"].version == "friendlier-v2"
    source.write_text("closing:\n  en: ''\n")
    with pytest.raises(TemplateFileError, match="closing.en: empty"):
        served_templates({"acme-shop": None}, promotions)
    assert json.loads(promotions.read_text())["acme-shop"]["template"]["version"] == "friendlier-v2"
