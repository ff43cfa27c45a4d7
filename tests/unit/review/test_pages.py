"""What the case page lines up: each draft sentence with the clause it cites."""

from services.review.pages import explicit_markers, split_draft

CITATIONS = [{"ref": "billing.invoices@1+abc", "sentence": "Every order has a VAT invoice."},
             {"ref": "billing.invoices@1+abc", "sentence": "Business invoices show your VAT number."},
             {"ref": "support.contact@1+abc", "sentence": "Call us."}]


def test_numbered_markers_after_the_full_stop_belong_to_the_sentence_before():
    reply = "Hello,\nEvery order has a VAT invoice. [1] Business invoices show your VAT number. [1]\nCall us. [2]"
    sentences = split_draft(reply, CITATIONS)
    assert [(s.text, s.refs) for s in sentences] == [
        ("Hello,", []),
        ("Every order has a VAT invoice.", ["billing.invoices@1+abc"]),
        ("Business invoices show your VAT number.", ["billing.invoices@1+abc"]),
        ("Call us.", ["support.contact@1+abc"]),
    ]


def test_the_edit_box_shows_which_clause_each_marker_means():
    assert explicit_markers("A. [1] B. [2] C. [9]", CITATIONS) == "A. [billing.invoices@1+abc] B. [support.contact@1+abc] C. [9]"


def test_clause_markdown_reads_as_text():
    from services.review.pages import clause_plain_text

    assert clause_plain_text("return it within the [refund window](#refunds.window), **free**.") == \
        "return it within the refund window, free."
