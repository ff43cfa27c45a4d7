"""Report arithmetic, including honest deflection = deflection x (1 - re-contact rate)."""

import datetime as dt

import pytest

from services.audit.reports import build_report, honest_deflection, parse_period, render_markdown

SINCE, UNTIL = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc), dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
NOW = dt.datetime(2027, 1, 15, tzinfo=dt.timezone.utc)


def _row(i, *, sent_by=None, recontacted=False, category="order_status", locale="en", feedback=None,
         verdict="passed", failed=(), sla=None, citations=("c.1@v1",), sent_citations=None, corrected=None,
         delivered=True):
    return {
        "conversation_id": f"c{i}", "tenant": "acme-shop", "locale": locale, "started_at": "2026-11-05T10:00:00.000Z",
        "summary": {
            "category": category, "action": "send" if sent_by == "bot" else "review", "sent": sent_by is not None,
            "sent_by": sent_by, "citations": list(citations),
            "answer_delivered_by": sent_by.split(":", 1)[0] if sent_by and delivered else None,
            "sent_citations": list(citations if sent_citations is None else sent_citations),
            "feedback": feedback, "corrected_intent": corrected, "verdict": verdict, "failed_checks": list(failed),
            "sla": sla or {"started": True, "stopped": True, "breached": False},
            "recontacted": [{"conversation_id": "x"}] if recontacted else [],
        },
    }


def test_honest_deflection_formula():
    assert honest_deflection(0.35, 0.10) == pytest.approx(0.315)
    assert honest_deflection(0.25, 0.02) == pytest.approx(0.245)
    assert honest_deflection(None, 0.1) is None


def test_report_figures():
    rows = (
        [_row(i, sent_by="bot") for i in range(6)]  # 6 deflected
        + [_row(10 + i, sent_by="bot", recontacted=True) for i in range(2)]  # 2 deflected, came back
        + [_row(20, sent_by="agent:a1", feedback="approve", category="invoice", locale="de")]
        + [_row(21, sent_by="agent:a1", feedback="edit", category="invoice", locale="de")]
        + [_row(22, feedback="reject", category="invoice", locale="de", verdict="failed",
                failed=["numbers_match_clause"], corrected="other")]
        + [_row(23, verdict="needs_human", failed=["policy_rules", "numbers_match_clause"],
                sla={"started": True, "breached": True})]
        + [_row(24, sent_by="bot", sent_citations=["c.9@v1"])]  # sent citation not in the draft: invalid
    )
    check = lambda tenant, locale, ref: {"c.1@v1": True, "c.9@v1": True}.get(ref)  # noqa: E731
    report = build_report(rows, since=SINCE, until=UNTIL, period="2026-11", tenant="acme-shop",
                          citation_check=check, now=NOW)
    assert report["conversations"] == 13
    d = report["deflection"]
    assert d["deflection"]["numerator"] == 9 and d["deflection"]["denominator"] == 13
    assert d["recontact_7d"]["numerator"] == 2 and d["recontact_7d"]["denominator"] == 9
    assert d["honest_deflection"] == pytest.approx(9 / 13 * (1 - 2 / 9))
    ct = report["citation_trail"]
    assert ct["customer_facing_drafts"] == 11 and ct["valid"] == 10 and ct["invalid"] == 1
    invoice = next(g for g in report["by_category_locale"] if g["category"] == "invoice")
    assert invoice["accuracy"] == {"rate": pytest.approx(1 / 3), "numerator": 1, "denominator": 3}
    assert invoice["intent_accuracy"]["numerator"] == 2
    assert invoice["automation"]["rate"] == 0.0
    order = next(g for g in report["by_category_locale"] if g["category"] == "order_status")
    assert order["automation"]["numerator"] == 9 and order["automation"]["denominator"] == 10
    assert report["verifier"]["failures_by_reason"] == {"numbers_match_clause": 2, "policy_rules": 1}
    assert report["sla"]["numerator"] == 12 and report["sla"]["breached"] == 1
    text = render_markdown(report)
    assert "honest deflection" in text.lower() and "numbers_match_clause" in text


def test_only_delivered_bot_answers_deflect():
    rows = [_row(1, sent_by="bot"), _row(2, sent_by="bot", delivered=False), _row(3)]
    rows[2]["summary"]["acknowledged"] = True  # an out-of-hours acknowledgement is not an answer
    report = build_report(rows, since=SINCE, until=UNTIL, period="p", tenant=None,
                          citation_check=lambda *a: True, now=NOW)
    assert report["deflection"]["deflection"]["numerator"] == 1
    assert report["deflection"]["deflection"]["denominator"] == 3


def test_unverifiable_citations_are_not_counted_valid():
    report = build_report([_row(1, sent_by="bot")], since=SINCE, until=UNTIL, period="p", tenant=None,
                          citation_check=lambda *a: None, now=NOW)
    assert report["citation_trail"]["valid"] == 0 and report["citation_trail"]["unverifiable"] == 1


@pytest.mark.parametrize("text,start,end", [
    ("2026-11", "2026-11-01", "2026-12-01"), ("2026-12", "2026-12-01", "2027-01-01"),
    ("2026-Q4", "2026-10-01", "2027-01-01"), ("2026-W45", "2026-11-02", "2026-11-09"),
    ("2026-11-02", "2026-11-02", "2026-11-03"), ("2026-11-01..2026-11-15", "2026-11-01", "2026-11-16"),
])
def test_periods(text, start, end):
    since, until, _ = parse_period(text)
    assert since.date().isoformat() == start and until.date().isoformat() == end


def test_bad_period_is_a_clear_error():
    with pytest.raises(ValueError, match="not understood"):
        parse_period("last week")
