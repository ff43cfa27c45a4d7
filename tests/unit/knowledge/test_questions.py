"""The ``::: questions`` div: parsed into the clause, refused when malformed, hashed, never cited; and ranking on it."""

from __future__ import annotations

import re

import pytest
from kb_testing import problems_of, write

from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.clauses import load_locale
from casetrail.knowledge.index import RetrievalIndex
from casetrail.knowledge.publish import publish
from casetrail.knowledge.store import KnowledgeBase

TIMES = """# Delivery

## Delivery times {#shipping.times}
Standard delivery takes 2 to 5 business days within the EU.
See [tracking](#shipping.tracking).

::: questions
- How long does delivery take?
- when will my order arrive if I order today
:::

## Tracking {#shipping.tracking}
We email you a tracking link when the parcel leaves the warehouse.
"""


def test_questions_are_parsed_and_are_not_part_of_the_cited_text(tmp_path):
    write(tmp_path / "en", "a.md", TIMES)
    times, tracking = load_locale(tmp_path / "en", "t", "en").clauses
    assert times.questions == ("How long does delivery take?", "when will my order arrive if I order today")
    assert times.text.endswith("See [tracking](#shipping.tracking).")
    assert ":::" not in times.text and "How long" not in times.plain_text and "How long" not in times.passage
    assert times.references == ("shipping.tracking",)
    assert tracking.questions == ()


def test_pandoc_attribute_form_and_other_bullets_are_accepted(tmp_path):
    write(tmp_path / "en", "a.md", "## T {#a.b}\nAnswer.\n\n:::: {.questions}\n* one\n\n+ two\n::::\n")
    [clause] = load_locale(tmp_path / "en", "t", "en").clauses
    assert clause.questions == ("one", "two") and clause.text == "Answer."


def test_questions_are_part_of_the_content_hash(tmp_path):
    write(tmp_path / "en", "a.md", TIMES)
    first = load_locale(tmp_path / "en", "t", "en").content_hash
    write(tmp_path / "en", "a.md", TIMES.replace("How long does delivery take?", "How long is shipping?"))
    assert load_locale(tmp_path / "en", "t", "en").content_hash != first


def test_a_kb_without_questions_keeps_its_hash(tmp_path):
    """Old versions stay identical: the record gains ``questions`` only when a clause has some."""
    write(tmp_path / "en", "a.md", "## T {#a.b}\none\n")
    [clause] = load_locale(tmp_path / "en", "t", "en").clauses
    assert "questions" not in clause.content_record()


@pytest.mark.parametrize("div,expected", [
    ("::: questions\n- how long?\n", r"a\.md:4: clause 'a\.b': the questions div is never closed"),
    ("::: questions\n:::\n", r"a\.md:4: clause 'a\.b': the questions div is empty"),
    ("::: questions\n\n\n:::\n", r"a\.md:4: clause 'a\.b': the questions div is empty"),
    ("::: questions\n- how long?\nplain text\n:::\n", r"a\.md:6: clause 'a\.b': 'plain text' in the questions div is not"),
    ("::: questions\n- how long?\n:::\nMore answer.\n", r"a\.md:6: clause 'a\.b': text after the questions div"),
    ("::: question\n- how long?\n:::\n", r"a\.md:4: clause 'a\.b': unknown fenced div 'question'"),
])
def test_malformed_divs_are_refused_with_file_and_line(tmp_path, div, expected):
    write(tmp_path / "en", "a.md", f"## T {{#a.b}}\nAnswer.\n\n{div}\n## Next {{#a.c}}\nOther.\n")
    assert re.search(expected, problems_of(tmp_path / "en"))


def test_a_clause_of_questions_only_is_empty(tmp_path):
    write(tmp_path / "en", "a.md", "## T {#a.b}\n::: questions\n- how long?\n:::\n")
    assert re.search(r"a\.md:1: clause 'a\.b' is empty", problems_of(tmp_path / "en"))


def test_a_div_inside_a_code_block_is_body_text(tmp_path):
    write(tmp_path / "en", "a.md", "## T {#a.b}\nExample:\n\n```\n::: questions\n```\n")
    [clause] = load_locale(tmp_path / "en", "t", "en").clauses
    assert clause.questions == () and "::: questions" in clause.text


def test_questions_and_their_vectors_round_trip_through_the_catalogue(tmp_path, embedder):
    write(tmp_path / "acme" / "en", "a.md", TIMES)
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    [result] = publish(tmp_path / "acme", embedder=embedder, catalogue=catalogue)
    assert [kind for _, kind in embedder.calls] == ["passage", "query"]  # questions are embedded as queries
    times, tracking = catalogue.clauses("acme", "en", result.version.kb_version)
    assert times.questions == ("How long does delivery take?", "when will my order arrive if I order today")
    vectors = catalogue.question_vectors("acme", "en", result.version.kb_version)
    assert vectors[0].shape == (2, embedder.dimension) and vectors[1].shape[0] == 0
    assert vectors[0] == pytest.approx(embedder.embed(list(times.questions), kind="query"))


# The question matches shipping.times' anchoring question word for word, while
# the text of shipping.notice repeats the customer's words more than
# shipping.times' text does: anchoring must still put shipping.times first.
ANCHORED = """## Delivery times {#shipping.times}
Standard delivery takes 2 to 5 business days within the EU.

::: questions
- when will my parcel get here
:::

## Arrival notices {#shipping.notice}
When will my parcel get here? The carrier tells you: it sends an arrival notice for your parcel here.
"""


def test_a_question_matching_an_anchor_ranks_its_clause_first(tmp_path, embedder):
    write(tmp_path / "acme" / "en", "a.md", ANCHORED)
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    publish(tmp_path / "acme", embedder=embedder, catalogue=catalogue)
    question = "When will my parcel get here?"
    vector = embedder.embed([question])[0]

    text_only = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0,
                              anchor_questions=False)
    _, hits = text_only.search("acme", "en", vector, query_text=question, limit=2)
    assert hits[0].clause.clause_id == "shipping.notice"  # by text alone, the lexically closer clause wins
    text_only.close()

    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0)
    _, hits = knowledge.search("acme", "en", vector, query_text=question, limit=5)
    assert [h.clause.clause_id for h in hits] == ["shipping.times", "shipping.notice"]  # one hit per clause
    best = hits[0]
    assert best.question == "when will my parcel get here" and best.dense == pytest.approx(1.0)
    assert best.lexical < hits[1].lexical  # the other clause's text is lexically closer
    assert best.score == pytest.approx(best.dense + 0.15 * best.lexical)
    assert hits[1].question is None  # that clause matched by its text
    assert best.clause.questions == ("when will my parcel get here",) and "parcel get here" not in best.clause.text
    knowledge.close()
