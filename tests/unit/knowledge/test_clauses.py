"""The Markdown clause format: parsing, validation with file and line, the sample tenant."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from kb_testing import SAMPLE_KB, problems_of, write

from casetrail.knowledge.clauses import KnowledgeBaseError, load_locale, load_tenant
from casetrail.knowledge.publish import missing_across_locales
from casetrail.policy.taxonomy import DEFAULT_CATEGORIES, SUPPORTED_LOCALES
from casetrail.policy.tenant import load_policy


def test_clause_attributes_references_and_effective_dates(tmp_path):
    write(tmp_path / "en", "a.md", """---
category: refund_policy
---
# Refunds

## Refund window {#refunds.window effective_from=2026-01-01 effective_until=2027-01-01}
Return within **30 days**. See [how refunds are paid](#refunds.method).

```
## not a heading inside a code block
```

## Paid back {#refunds.method category=refund_status}
To the original payment method.

### A sub-heading stays in its clause
More text.
""")
    kb = load_locale(tmp_path / "en", "t", "en")
    window, method = kb.clauses
    assert (window.clause_id, window.title, window.section, window.line) == ("refunds.window", "Refund window", "Refunds", 6)
    assert window.category == "refund_policy" and method.category == "refund_status"
    assert window.references == ("refunds.method",)
    assert window.plain_text.startswith("Return within 30 days. See how refunds are paid.")
    assert "not a heading" in window.text  # the fenced ## did not open a clause
    assert "A sub-heading" in method.text
    assert window.in_effect(dt.date(2026, 6, 1))
    assert not window.in_effect(dt.date(2025, 12, 31)) and not window.in_effect(dt.date(2027, 1, 1))


def test_every_problem_is_refused_with_file_and_line(tmp_path):
    write(tmp_path / "en", "a.md", """# Section

## No id here
text

## Empty {#x.empty}

## Good {#x.good}
See [missing](#x.missing).

## Bad date {#x.date effective_from=2026-13-01}
text

## Bad id {#NotValid}
text
""")
    write(tmp_path / "en", "b.md", "## Again {#x.good}\nduplicate\n")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_locale(tmp_path / "en", "t", "en")
    problems = [str(p) for p in caught.value.problems]
    text = "\n".join(problems)
    assert re.search(r"a\.md:3: clause heading 'No id here' has no id", text)
    assert re.search(r"a\.md:6: clause 'x.empty' is empty", text)
    assert re.search(r"a\.md:9: clause 'x.good' refers to unknown clause 'x.missing'", text)
    assert re.search(r"a\.md:11: effective_from='2026-13-01' is not a date", text)
    assert re.search(r"a\.md:14: clause id 'NotValid' is invalid", text)
    assert re.search(r"b\.md:1: duplicate clause id 'x.good' \(first defined at .*a\.md:8\)", text)
    assert len(problems) == 6


def test_content_hash_follows_content(tmp_path):
    write(tmp_path / "en", "a.md", "## T {#a.b}\none\n")
    first = load_locale(tmp_path / "en", "t", "en").content_hash
    assert load_locale(tmp_path / "en", "t", "en").content_hash == first
    write(tmp_path / "en", "a.md", "## T {#a.b}\ntwo\n")
    assert load_locale(tmp_path / "en", "t", "en").content_hash != first


def test_sample_tenant_is_valid_with_the_same_ids_in_every_locale():
    kbs = load_tenant(SAMPLE_KB)
    assert sorted(kb.locale for kb in kbs) == sorted(SUPPORTED_LOCALES)
    assert missing_across_locales(kbs) == {}
    assert all(kb.tenant == "acme-shop" for kb in kbs)
    ids = set(kbs[0].by_id())
    for required in ("refunds.window", "refunds.store_credit", "refunds.exchange", "refunds.partial_credit",
                     "shipping.delays", "orders.changes", "account.password_reset", "payments.failed",
                     "fraud.report", "privacy.erasure", "shipping.times", "orders.cancellation",
                     "orders.cancellation_fee", "support.contact", "billing.invoices"):
        assert required in ids
    # Every category of the shop taxonomy (out_of_scope aside) has a clause, and no clause uses another category.
    for kb in kbs:
        assert {c.category for c in kb.clauses} == set(DEFAULT_CATEGORIES), kb.locale
        alternatives = {c.alternative for c in kb.clauses if c.alternative}
        assert alternatives == {"credit", "exchange", "partial_credit"}


def test_every_sample_clause_has_four_to_sixteen_questions_and_is_short():
    # At least four so a clause is found by more than its own wording; at most sixteen because
    # every question is one more point to embed at publish and to compare at every search.
    for kb in load_tenant(SAMPLE_KB):
        for clause in kb.clauses:
            assert 4 <= len(clause.questions) <= 16, (kb.locale, clause.clause_id, len(clause.questions))
            assert len(set(clause.questions)) == len(clause.questions), (kb.locale, clause.clause_id)
            # a sentence ends before a capital letter or at the end ("el. paštu", "g. 5" do not end one)
            sentences = re.findall(r"[.!?](?=\s+[A-ZÀ-ÝĄČĘĖĮŠŲŪŽ]|$)", clause.plain_text)
            assert 1 <= len(sentences) <= 4, (kb.locale, clause.clause_id)


def test_a_question_anchoring_two_clauses_is_refused(tmp_path):
    # differing only in case and punctuation, it is the same question: retrieval would break the tie by accident
    write(tmp_path / "en", "a.md", """## Status {#orders.status}
Orders show their status.

::: questions
- When will my order be dispatched?
- where is my order
:::

## Delay {#orders.delay}
Orders can take 3 days.

::: questions
- when will my order be dispatched
- why is my order late
:::
""")
    assert re.fullmatch(r".*/a\.md:9: clause 'orders\.delay': question 'when will my order be dispatched' "
                        r"already anchors 'orders\.status' \(.*/a\.md:1\)", problems_of(tmp_path / "en"))


def test_translations_carry_the_same_numbers_and_attributes():
    """The verifier checks a reply's numbers against the cited clause: every locale must state the same ones."""
    def numbers(text):
        return sorted({n.replace(",", ".") for n in re.findall(r"\d+(?:[.,]\d+)?", text)})

    kbs = {kb.locale: kb.by_id() for kb in load_tenant(SAMPLE_KB)}
    for locale, clauses in kbs.items():
        for clause_id, clause in clauses.items():
            english = kbs["en"][clause_id]
            assert numbers(clause.text) == numbers(english.text), (locale, clause_id)
            assert (clause.category, clause.alternative, clause.references) == \
                (english.category, english.alternative, english.references), (locale, clause_id)


def test_sample_clauses_state_the_tenant_policy_numbers():
    """The KB and config/tenants/acme-shop.yaml must not contradict each other (the verifier checks drafts against both)."""
    policy = load_policy(SAMPLE_KB.parents[1] / "config" / "tenants" / "acme-shop.yaml")
    for kb in load_tenant(SAMPLE_KB):
        clauses = kb.by_id()
        assert f"{policy.refunds.window_days}" in clauses["refunds.window"].text, kb.locale
        assert f"{policy.refunds.auto_approval_limit:g} {policy.refunds.currency}" in clauses["refunds.approval"].text
