"""Full names written in passing, with no cue and no name from the source (issue 17: they were kept)."""

import pytest

from casetrail.privacy.person_names import uncued_full_names
from casetrail.privacy.pii import PiiKind, detect


@pytest.mark.parametrize("text, name, locale", [
    ("please leave the parcel with Teresa Smith at the door", "Teresa Smith", "en"),
    ("Bitte geben Sie das Paket Lena Wagner-Schulz im zweiten Stock.", "Lena Wagner-Schulz", "de"),
    ("Le colis est pour Agnès Allard, ma voisine.", "Agnès Allard", "fr"),
    ("El pedido lo recoge Rocío Gómez mañana.", "Rocío Gómez", "es"),
    ("Siuntą paims Sandra Kazlauskaitė.", "Sandra Kazlauskaitė", "lt"),
    ("My neighbour Sean O'Neill took it in.", "Sean O'Neill", "en"),
])
def test_a_full_name_without_a_cue_is_redacted(text, name, locale):
    findings = [f for f in detect(text, locale) if f.kind == PiiKind.NAME]
    assert [text[f.start:f.end] for f in findings] == [name]


@pytest.mark.parametrize("text", [
    "I ordered the Rose Gold iPhone case in May.",
    "May I return it? Will You Send A New One?",  # "May", "Will" are given names far less often than words
    "Dėl Jūsų užsakymo: kada atvyks?",  # Lithuanian "about your order", not a Del Jusu
    "The hotel in Santa Cruz never got the parcel.",
    "Please send it to JOHN SMITH in capitals",  # an all-capital surname is an acronym more often than a name
    "Can I pay with Apple Pay or Google Pay?",
    "Teresa called.",  # a given name alone stays: most are products, months or places
])
def test_words_that_only_look_like_names_stay(text):
    spans = [text[a:b] for a, b in uncued_full_names(text)]
    assert spans == []


def test_capitalised_words_without_given_names_cost_one_scan_and_find_nothing():
    text = "Aaaa Bbbb " * 50_000  # half a megabyte of capitalised pairs, none a given name
    assert uncued_full_names(text) == []
