import pytest

from casetrail.grounding.quantities import extract_quantities, parse_decimal, supported_by, word_to_number


def kinds(text, locale="en"):
    return [(q.kind, q.value, q.unit) for q in extract_quantities(text, locale)]


@pytest.mark.parametrize("text,locale", [
    ("within 30 days", "en"), ("innerhalb von 30 Tagen", "de"), ("sous 30 jours", "fr"), ("en 30 días", "es"),
    ("per 30 dienų", "lt"), ("within thirty days", "en"), ("innerhalb von dreißig Tagen", "de"),
    ("sous trente jours", "fr"), ("en treinta días", "es"), ("per trisdešimt dienų", "lt"),
])
def test_thirty_days_in_every_locale(text, locale):
    assert kinds(text, locale) == [("duration", 30.0, "day")]


@pytest.mark.parametrize("text,locale", [
    ("€50", "en"), ("50 EUR", "en"), ("EUR 50", "en"), ("50,00 €", "de"), ("50 €", "fr"), ("50,00 €", "es"),
    ("50 eurų", "lt"), ("€ 50.00", "en"),
])
def test_fifty_euros_in_every_format(text, locale):
    assert kinds(text, locale) == [("money", 50.0, "EUR")]


def test_thousands_separators_follow_the_locale():
    assert kinds("€1,000", "en") == [("money", 1000.0, "EUR")]
    assert kinds("1.000 €", "de") == [("money", 1000.0, "EUR")]
    assert kinds("1 000 €", "fr") == [("money", 1000.0, "EUR")]
    assert parse_decimal("1.000,50", "de") == 1000.5
    assert parse_decimal("1,5", "de") == 1.5


def test_weeks_normalise_to_days_and_business_days_stay_apart():
    assert kinds("two weeks", "en") == [("duration", 14.0, "day")]
    assert kinds("zwei Wochen", "de") == [("duration", 14.0, "day")]
    assert kinds("3 to 5 business days", "en") == [("duration", 3.0, "business_day"), ("duration", 5.0, "business_day")]
    assert kinds("2 darbo dienas", "lt") == [("duration", 2.0, "business_day")]


def test_percentages_dates_and_times():
    assert kinds("10 %", "fr") == [("percent", 10.0, "%")]
    assert kinds("20 Prozent", "de") == [("percent", 20.0, "%")]
    assert kinds("10 proc.", "lt") == [("percent", 10.0, "%")]
    assert kinds("15 de marzo de 2026", "es") == [("date", (2026, 3, 15), "")]
    assert kinds("2026 m. kovo 15 d.", "lt") == [("date", (2026, 3, 15), "")]
    assert kinds("before 14:00", "en") == [("time", (14, 0), "")]


def test_articles_are_not_numbers_but_number_words_before_units_are():
    assert kinds("Sie erhalten eine Rückerstattung.", "de") == []
    assert kinds("innerhalb eines Monats", "de") == [("duration", 1.0, "month")]
    assert word_to_number("einunddreißig") == 31
    assert word_to_number("trente et un") == 31
    assert word_to_number("treinta y uno") == 31


def test_placeholders_and_citation_markers_are_not_numbers():
    assert kinds("Order [ORDER_1] see [refunds.window@1+abc123]", "en") == []


def test_support_rules():
    clause = extract_quantities("Refunds up to 50 EUR within 30 days.", "en")
    assert supported_by(extract_quantities("€40", "en")[0], clause)  # follows from "up to"
    assert not supported_by(extract_quantities("€60", "en")[0], clause)
    assert supported_by(extract_quantities("thirty days", "en")[0], clause)
    assert not supported_by(extract_quantities("60 days", "en")[0], clause)
    assert not supported_by(extract_quantities("30 business days", "en")[0], clause)


def test_a_remembered_reading_is_the_same_and_callers_cannot_change_it():
    from casetrail.grounding.quantities import REMEMBERED_TEXT_CHARS, _read_quantities

    sentence = "Refunds arrive within 5 to 10 business days, and returns are free up to 50 EUR."
    first = extract_quantities(sentence, "en")
    first.clear()  # a caller changing its list must not change what the next caller gets
    assert extract_quantities(sentence, "en") == _read_quantities(sentence, "en") != []
    long_mail = ("I paid 45,90 EUR on 3 March. " * (REMEMBERED_TEXT_CHARS // 20))[: REMEMBERED_TEXT_CHARS + 50]
    assert extract_quantities(long_mail, "en") == _read_quantities(long_mail, "en") != []
