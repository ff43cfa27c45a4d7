"""Street addresses are personal data (issue 17: "redaction misses street addresses").

Before ``casetrail.privacy.addresses`` every street line below reached triage, the drafter
and the logs' neighbours in clear text. Sentences are written like the dev set's tickets.
"""

import json

import pytest

from casetrail.privacy.pii import detect
from services.ingest.normalise import IntakeRecord, Normaliser
from services.ingest.redaction import Redactor


def streets(text: str, locale=None) -> list[str]:
    return [text[f.start:f.end] for f in detect(text, locale) if f.kind.value == "ADDRESS"]


@pytest.mark.parametrize("locale, text, street", [
    ("en", "Please send the replacement to 12 Mill Lane, Leeds.", "12 Mill Lane"),
    ("en", "New address: 4B Kings Road, London SW3 4NB", "4B Kings Road"),
    ("de", "Könnt ihr die Lieferadresse auf meine Arbeitsstelle ändern (Praxis Dr. Vogel, Hauptstraße 12)?",
     "Hauptstraße 12"),
    ("de", "Bitte an unsere neuen Räumlichkeiten liefern:\nHafenstraße 7, Einheit B", "Hafenstraße 7"),
    ("de", "Rosenthaler Straße 1, 10119 Berlin", "Rosenthaler Straße 1"),
    ("de", "Wir sind umgezogen, jetzt Am Ring 5a.", "Am Ring 5a"),
    ("fr", "Élodie Marchand\n14 rue des Tanneurs\n67000 Strasbourg", "14 rue des Tanneurs"),
    ("fr", "L'adresse : 22 rue de Fer, 5000 Namur. Merci bien", "22 rue de Fer"),
    ("fr", "Livraison au 8, avenue Jean Jaurès svp", "8, avenue Jean Jaurès"),
    ("es", "En la dirección puse calle San Juan 12 y es el 21.", "calle San Juan 12"),
    ("es", "Envíenlo a Avda. de la Paz, nº 4, Madrid", "Avda. de la Paz, nº 4"),
    ("lt", "Pristatykite į Gedimino pr. 9, Vilnius.", "Gedimino pr. 9"),
    ("lt", "Mano adresas Vilniaus g. 12-3, Kaunas", "Vilniaus g. 12-3"),
])
def test_street_lines_in_five_languages(locale, text, street):
    assert streets(text, locale) == [street]
    redacted = Redactor(locale).redact(text)
    assert street not in redacted and "[ADDRESS_1]" in redacted


@pytest.mark.parametrize("text", [
    "There is a typo in the street name, please fix it.",
    "tippfehler im straßennamen, bitte korrigieren",
    "Bring 2 boxes to the store, order 12345.",
    "j'ai commandé 2 cours de yoga",
    "Order 12345 was sent to the Main Street branch.",
    "Me cobraron 2 veces el pedido 5531.",
    "Užsakymas 4471 atėjo sudužęs.",
])
def test_no_house_number_or_no_street_word_is_not_an_address(text):
    assert streets(text) == []


@pytest.mark.parametrize("unit", ["Ab ", "Straße ", "rue De ", "calle Del ", "12 Ab ", "Ab g. ", "1 rue "])
def test_street_shaped_runs_stay_within_the_ingest_budget(unit):
    # Long runs of capitalised words and street-type words without a house number where one is
    # needed: a backtracking pattern would spend minutes here and the record would be too_expensive.
    payload = json.dumps({"external_id": "T-1", "customer": {"id": "c-1"},
                          "messages": [{"id": "m1", "sent_at": "2025-03-03T10:00:00Z", "text": unit * 40_000}]})
    normaliser = Normaliser(detect_locale=False, budget_seconds=2.0)
    result = normaliser.normalise(IntakeRecord(tenant="t", source="generic", payload=payload.encode()))
    assert result.event.conversation.messages
