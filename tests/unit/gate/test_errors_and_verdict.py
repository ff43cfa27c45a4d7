"""What the gate counts as an error, and when it refuses (pure)."""

from dataclasses import dataclass, field

from casetrail_tools.gate.errors import is_error, slices_of
from services.drafter.templates import BUILTIN, load_templates
from casetrail_tools.gate.verdict import compare, report_lines


@dataclass
class Decision:
    category: str = "billing"
    action: str = "review"
    citations: list = field(default_factory=lambda: ["billing.invoices@1+a"])
    locale: str = "en"
    failed_checks: list = field(default_factory=list)
    draft_text: str = ""


def rejected(reason, **extra):
    return {"id": "a", "text": "x", "locale": "en", "expected": {"category": "billing", "locale": "en"},
            "correction": {"label": "reject", "reason": reason, "predicted_category": "billing",
                           "predicted_clauses": ["billing.invoices@1+old"], **extra}}


def test_a_wrong_clause_rejection_is_repeated_by_citing_that_clause_first_at_any_version():
    assert is_error(rejected("wrong_clause"), Decision())
    assert not is_error(rejected("wrong_clause"), Decision(citations=["billing.business_invoices@2+b"]))


def test_a_wrong_intent_rejection_is_repeated_by_the_same_category_or_by_missing_the_named_one():
    assert is_error(rejected("wrong_intent"), Decision(category="billing"))
    assert not is_error(rejected("wrong_intent"), Decision(category="invoice"))
    assert is_error(rejected("wrong_intent", corrected_intent="refund_request"), Decision(category="invoice"))


def test_a_tone_rejection_is_repeated_only_by_sending_it():
    assert is_error(rejected("tone"), Decision(action="send"))
    assert not is_error(rejected("tone"), Decision(action="review"))


REJECTED = f"Hello,\n\n{BUILTIN.opener('en', 'invoice', None)}\n\nAn invoice is in your account. [1]\n\n" \
           f"{BUILTIN.text('closing', 'en')}\n\n-- {BUILTIN.text('disclosure', 'en')}"


def test_for_a_template_a_tone_rejection_is_repeated_by_its_wording_sent_or_not(tmp_path):
    example = {**rejected("tone"), "rejected_draft": REJECTED}
    assert is_error(example, Decision(action="review", draft_text=REJECTED), BUILTIN)
    (tmp_path / "t.yaml").write_text("openers:\n  en:\n    invoice: 'About your invoice{about}:'\n"
                                     "closing:\n  en: 'Just answer here if you need more.'\n")
    reworded = load_templates(tmp_path / "t.yaml", "t-2")
    new_text = REJECTED.replace(BUILTIN.opener("en", "invoice", None), "About your invoice:").replace(
        BUILTIN.text("closing", "en"), "Just answer here if you need more.")
    assert not is_error(example, Decision(action="send", draft_text=new_text), reworded)
    # without templates (a knowledge base or model candidate) the old rule holds: sending it is wrong
    assert is_error(example, Decision(action="send", draft_text=new_text))


def test_for_a_template_a_draft_failing_a_framing_check_is_wrong_even_when_not_sent():
    ticket = {"id": "d", "text": "x", "expected": {"category": "billing", "human": False}}
    assert is_error(ticket, Decision(action="escalate", failed_checks=["ai_disclosure"]), BUILTIN)
    assert not is_error(ticket, Decision(action="escalate", failed_checks=["confidence_threshold"]), BUILTIN)
    assert not is_error(ticket, Decision(action="escalate", failed_checks=["ai_disclosure"]))


def test_dev_set_tickets_are_wrong_in_category_or_when_a_must_reach_human_ticket_is_sent():
    ticket = {"id": "d", "text": "x", "expected": {"category": "billing", "human": False}}
    assert not is_error(ticket, Decision())
    assert is_error(ticket, Decision(category="invoice"))
    assert is_error({"id": "h", "text": "x", "expected": {"human": True}}, Decision(action="send"))


def test_an_equal_error_rate_is_refused_and_the_report_names_what_got_worse():
    a, b = rejected("wrong_clause"), {"id": "d", "text": "x", "expected": {"category": "billing", "locale": "de"}}
    same = compare([(a, True, True, slices_of(a, Decision())), (b, False, False, ["category:billing", "locale:de"])])
    assert not same.promoted
    worse = compare([(a, True, False, ["category:billing", "locale:en"]),
                     (b, False, True, ["category:payment", "locale:de"])])
    assert not worse.promoted  # one fixed, one broken: not an improvement
    assert {c.slice for c in worse.worse} == {"category:payment", "locale:de"}
    assert any("locale:de" in line for line in report_lines(worse, "kb-2", "kb-1"))
    better = compare([(a, True, False, ["category:billing", "locale:en"]), (b, False, False, ["locale:de"])])
    assert better.promoted and better.improved and better.within_baseline
