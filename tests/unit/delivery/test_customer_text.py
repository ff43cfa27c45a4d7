"""What the customer reads: the verified reply without citation markers, with the disclosure and reference."""

from casetrail.own_messages import marker_for
from services.delivery.disclosure import with_disclosure_and_reference

DRAFT = ("Hello,\n\nYou can return any item within 30 days of delivery. [1] Refunds reach your card in 5 days. [2]\n\n"
         "You can also choose:\n- Store credit plus a 10% bonus. [3]\n\nNote order [ORDER_1]. [refunds.window@v1]\n\n"
         "-- This reply was drafted by an AI assistant on behalf of our support team.")


def test_the_customer_reads_no_citation_markers_but_keeps_placeholders_and_disclosure():
    body = with_disclosure_and_reference(DRAFT, "en", marker_for("k1"))
    assert "[1]" not in body and "[3]" not in body and "@v1" not in body
    assert "within 30 days of delivery. Refunds reach your card in 5 days.\n" in body
    assert "- Store credit plus a 10% bonus.\n" in body and "[ORDER_1]" in body
    assert body.count("drafted by an AI assistant") == 1
