"""casetrail.privacy.pii.detect - the API the verifier also relies on."""

import datetime as dt

from casetrail.privacy.pii import PiiKind, detect

TODAY = dt.date(2025, 6, 1)


def found(text, locale=None, names=()):
    return [(f.kind.value, text[f.start:f.end]) for f in detect(text, locale, names, today=TODAY)]


def test_checksummed_types_in_every_locale():
    assert found("IBAN DE89 3704 0044 0532 0130 00 EUR bitte") == [("IBAN", "DE89 3704 0044 0532 0130 00")]
    assert found("card 4111 1111 1111 1111 thanks") == [("CARD", "4111 1111 1111 1111")]
    assert found("asmens kodas 38703181745") == [("NATIONAL_ID", "38703181745")]
    assert found("Steuer-ID 36574261809") == [("NATIONAL_ID", "36574261809")]
    assert found("NIR 2 95 10 99 126 111 93") == [("NATIONAL_ID", "2 95 10 99 126 111 93")]
    assert found("DNI 54362315K y NIE X2482300W") == [("NATIONAL_ID", "54362315K"), ("NATIONAL_ID", "X2482300W")]


def test_invalid_checksums_are_not_personal_data():
    assert found("card 4111 1111 1111 1112, IBAN DE89 3704 0044 0532 0130 01, code 38703181746") == []


def test_phones_national_and_international():
    assert found("Tel 030 1234567", "de") == [("PHONE", "030 1234567")]
    assert found("tel. +370 612 34567 arba 8 612 34567", "lt") == [("PHONE", "+370 612 34567"), ("PHONE", "8 612 34567")]
    assert found("llámame al 612 345 678", "es") == [("PHONE", "612 345 678")]


def test_order_numbers_amounts_and_recent_dates_are_left_alone():
    assert found("Commande 123456789 du 02/03/2025, montant 12345 EUR, suivi 1Z999AA10123456784", "fr") == []


def test_dates_of_birth_by_cue_or_age():
    assert found("geboren am 3. März 1985", "de") == [("DATE_OF_BIRTH", "3. März 1985")]
    assert found("born 11/08/1909") == [("DATE_OF_BIRTH", "11/08/1909")]
    assert found("gimimo data 1987 m. kovo 18 d.", "lt") == [("DATE_OF_BIRTH", "1987 m. kovo 18 d.")]
    assert found("delivered 2025-05-02") == []


def test_postcodes_need_a_recognisable_form_or_context():
    assert found("send it to 12 Mill Lane, EC6E 6YB") == [("ADDRESS", "12 Mill Lane"), ("POSTCODE", "EC6E 6YB")]
    assert found("75001 Paris", "fr") == [("POSTCODE", "75001")]
    assert found("mi código postal es 28013.", "es") == [("POSTCODE", "28013")]
    assert found("invoice 28013 is paid") == []


def test_known_names_with_lithuanian_inflection_and_self_introduction():
    assert found("Jono Jonaičio draugas, Jonui", "lt", ("Jonas Jonaitis",))[0] == ("NAME", "Jono")
    assert found("my name is Teresa Smith.") == [("NAME", "Teresa Smith")]
    assert found("Hi Jill O'Brien here", names=("Jill O'Brien",)) == [("NAME", "Jill O'Brien")]


def test_findings_do_not_overlap_and_stronger_kind_wins():
    findings = detect("+33612190055 et 379077826444771", "fr", today=TODAY)
    assert all(a.end <= b.start for a, b in zip(findings, findings[1:]))
    assert findings[0].kind == PiiKind.PHONE
