"""The drafter cuts a clause into sentences exactly where the verifier cuts the reply."""

from services.drafter.composer import split_sentences


def test_an_abbreviation_inside_an_address_does_not_end_the_sentence():
    clause = ("Les retours vont à notre centre de retours : Acme Shop Returns, Logistikos g. 5, 02121 Vilnius, "
              "Lituanie. Envoyez-les avec notre étiquette de retour.")
    assert split_sentences(clause) == [
        "Les retours vont à notre centre de retours : Acme Shop Returns, Logistikos g. 5, 02121 Vilnius, Lituanie.",
        "Envoyez-les avec notre étiquette de retour.",
    ]


def test_sentences_starting_with_a_number_are_still_cut():
    assert split_sentences("Refunds take 5 days. 30 days is the return window.") == [
        "Refunds take 5 days.", "30 days is the return window."]
