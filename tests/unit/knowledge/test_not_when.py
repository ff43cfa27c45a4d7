"""The ``::: not_when`` div: parsed, refused when malformed, hashed, stored; and the demotion retrieval applies."""

from __future__ import annotations

import re
import sqlite3

import numpy as np
import pytest
from kb_testing import SAMPLE_KB, problems_of, write

from casetrail.knowledge.catalogue import Catalogue
from casetrail.knowledge.clauses import Clause, load_locale, load_tenant
from casetrail.knowledge.index import RetrievalIndex, ScoredClause
from casetrail.knowledge.not_when import CUE_LEAD, PENALTY, demote
from casetrail.knowledge.publish import publish
from casetrail.knowledge.store import KnowledgeBase
from casetrail.policy.taxonomy import SUPPORTED_LOCALES

# The general clause shares the request's words ("forgot", "password", "reset"); the specific one is
# what a customer whose reset e-mail never came needs.
RESET = """# Account

## Password reset {#account.password_reset}
To reset your password, choose "Forgot password" on the sign-in page and follow the link we e-mail you.

::: questions
- I forgot my password
- how do I reset my password
:::

::: not_when
- forgot my password but the reset email is not arriving
- no reset email in my inbox
:::

## Reset e-mail not arriving {#account.reset_trouble}
If the e-mail has not arrived within 10 minutes, check your spam folder, then request a new link.

::: questions
- forgot my password and no email arrives
:::
"""


def test_not_when_is_parsed_apart_from_the_questions_and_never_cited(tmp_path):
    write(tmp_path / "en", "a.md", RESET)
    reset, trouble = load_locale(tmp_path / "en", "t", "en").clauses
    assert reset.questions == ("I forgot my password", "how do I reset my password")
    assert reset.not_when == ("forgot my password but the reset email is not arriving", "no reset email in my inbox")
    assert "never arrives" not in reset.text and "never arrives" not in reset.passage and ":::" not in reset.text
    assert trouble.not_when == ()


def test_the_divs_may_come_in_either_order(tmp_path):
    write(tmp_path / "en", "a.md", "## T {#a.b}\nAnswer.\n\n::: not_when\n- not this\n:::\n\n::: questions\n- this\n:::\n")
    [clause] = load_locale(tmp_path / "en", "t", "en").clauses
    assert clause.questions == ("this",) and clause.not_when == ("not this",) and clause.text == "Answer."


def test_not_when_is_part_of_the_content_hash_and_absent_from_old_records(tmp_path):
    write(tmp_path / "en", "a.md", RESET)
    first = load_locale(tmp_path / "en", "t", "en")
    assert first.clauses[0].content_record()["not_when"] == list(first.clauses[0].not_when)
    assert "not_when" not in first.clauses[1].content_record()  # a clause without cues keeps the hash it had
    write(tmp_path / "en", "a.md", RESET.replace("no reset email in my inbox", "the reset link expired"))
    assert load_locale(tmp_path / "en", "t", "en").content_hash != first.content_hash


@pytest.mark.parametrize("divs,expected", [
    ("::: not_when\n- x\n", r"a\.md:4: clause 'a\.b': the not_when div is never closed"),
    ("::: not_when\n:::\n", r"a\.md:4: clause 'a\.b': the not_when div is empty"),
    ("::: not_when\n- x\nplain text\n:::\n", r"a\.md:6: clause 'a\.b': 'plain text' in the not_when div is not"),
    ("::: not_when\n- x\n:::\nMore answer.\n", r"a\.md:6: clause 'a\.b': text after the not_when div"),
    ("::: not_when\n- x\n:::\n::: not_when\n- y\n:::\n", r"a\.md:7: clause 'a\.b': a second not_when div"),
    ("::: questions\n- q\n:::\n::: questions\n- r\n:::\n", r"a\.md:7: clause 'a\.b': a second questions div"),
    ("::: notwhen\n- x\n:::\n", r"a\.md:4: clause 'a\.b': unknown fenced div 'notwhen'"),
])
def test_malformed_not_when_divs_are_refused_with_file_and_line(tmp_path, divs, expected):
    write(tmp_path / "en", "a.md", f"## T {{#a.b}}\nAnswer.\n\n{divs}\n## Next {{#a.c}}\nOther.\n")
    assert re.search(expected, problems_of(tmp_path / "en"))


def test_not_when_round_trips_through_the_catalogue(tmp_path, embedder):
    write(tmp_path / "acme" / "en", "a.md", RESET)
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    [result] = publish(tmp_path / "acme", embedder=embedder, catalogue=catalogue)
    reset, trouble = catalogue.clauses("acme", "en", result.version.kb_version)
    assert reset.not_when == ("forgot my password but the reset email is not arriving", "no reset email in my inbox")
    assert trouble.not_when == ()
    cues, none = catalogue.not_when_vectors("acme", "en", result.version.kb_version)
    assert cues == pytest.approx(embedder.embed(list(reset.not_when), kind="query")) and none.shape[0] == 0
    # the reader takes them from the catalogue: searching embeds no cue
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0)
    vector = embedder.embed(["reset email not arriving"])[0]
    embedder.calls.clear()
    knowledge.search("acme", "en", vector, query_text="reset email not arriving")
    assert embedder.calls == []
    knowledge.close()


def test_a_catalogue_written_before_not_when_is_migrated_and_its_clauses_have_no_cues(tmp_path, embedder):
    write(tmp_path / "acme" / "en", "a.md", re.sub(r"::: not_when\n.*?:::\n", "", RESET, flags=re.S))
    path = tmp_path / "c.sqlite3"
    [result] = publish(tmp_path / "acme", embedder=embedder, catalogue=Catalogue(path))
    with sqlite3.connect(path) as db:  # the table as it was before the column existed
        db.execute("ALTER TABLE clauses DROP COLUMN not_when")
    reopened = Catalogue(path)
    assert [c.not_when for c in reopened.clauses("acme", "en", result.version.kb_version)] == [(), ()]


def _hit(clause_id: str, score: float, dense: float, cues: tuple[str, ...] = ()) -> ScoredClause:
    return ScoredClause(Clause(clause_id, clause_id, "text", "en", not_when=cues), score, dense=dense)


def test_a_clause_whose_cue_the_request_matches_is_demoted_below_its_neighbour():
    query = np.array([1.0, 0.0], dtype=np.float32)
    general = _hit("a.general", 1.00, dense=0.90, cues=("it failed",))
    specific = _hit("a.specific", 0.97, dense=0.88)
    near = 0.90 + CUE_LEAD + 0.005  # closer to the cue than to the clause's own best match, by more than CUE_LEAD
    cue = np.array([[near, np.sqrt(1 - near ** 2)]], dtype=np.float32)
    ranked = demote([general, specific], query, {"a.general": cue})
    assert [h.clause.clause_id for h in ranked] == ["a.specific", "a.general"]
    assert ranked[1].score == pytest.approx(1.00 - PENALTY) and ranked[1].demoted_by == "it failed"
    assert ranked[0] is specific  # a clause without cues is untouched


def test_a_request_closer_to_what_the_clause_answers_keeps_its_score():
    query = np.array([1.0, 0.0], dtype=np.float32)
    general = _hit("a.general", 1.00, dense=0.95, cues=("it failed",))
    far = 0.95 + CUE_LEAD - 0.005  # a little closer to the cue, but not by CUE_LEAD
    cue = np.array([[far, np.sqrt(1 - far ** 2)]], dtype=np.float32)
    [kept] = demote([general], query, {"a.general": cue})
    assert kept.score == 1.00 and kept.demoted_by is None


@pytest.mark.parametrize("cued", [False, True])
def test_search_ranks_the_specific_clause_first_only_when_the_general_ones_cue_matches(tmp_path, embedder, cued):
    kb = RESET if cued else re.sub(r"::: not_when\n.*?:::\n", "", RESET, flags=re.S)
    write(tmp_path / "acme" / "en", "a.md", kb)
    catalogue = Catalogue(tmp_path / "c.sqlite3")
    publish(tmp_path / "acme", embedder=embedder, catalogue=catalogue)
    knowledge = KnowledgeBase(catalogue, RetrievalIndex.local(None), embedder, refresh_seconds=0.0)

    def ranked(request: str) -> list[ScoredClause]:
        return knowledge.search("acme", "en", embedder.embed([request])[0], query_text=request, limit=2)[1]

    reported = ranked("forgot my password, the reset email is not arriving")
    if cued:
        assert [h.clause.clause_id for h in reported] == ["account.reset_trouble", "account.password_reset"]
        assert reported[1].demoted_by == "forgot my password but the reset email is not arriving"
    else:  # the general clause wins on shared words: what the cue is for
        assert [h.clause.clause_id for h in reported] == ["account.password_reset", "account.reset_trouble"]
    asked = ranked("I forgot my password, how do I reset my password")
    assert asked[0].clause.clause_id == "account.password_reset" and asked[0].demoted_by is None
    knowledge.close()


def test_every_cue_of_the_sample_kb_is_written_in_all_five_locales():
    kbs = load_tenant(SAMPLE_KB)
    cued = {kb.locale: {c.clause_id for c in kb.clauses if c.not_when} for kb in kbs}
    assert sorted(cued) == sorted(SUPPORTED_LOCALES) and cued["en"]
    assert all(ids == cued["en"] for ids in cued.values()), cued
    for kb in kbs:
        for clause in kb.clauses:
            # a cue must not also be a question the clause answers (it would demote the clause for its own question)
            assert not {q.lower() for q in clause.questions} & {c.lower() for c in clause.not_when}, clause.clause_id
