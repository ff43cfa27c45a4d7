"""Street addresses in free text: a street-type word next to a house number.

A ticket's "please deliver to Hafenstraße 7" or "14 rue des Tanneurs" names
where a person lives or works. Postcodes have their own detector (``pii``);
this finds the street line, in the shapes the five supported languages write
it:

* en: ``12 Main Street``, ``4B Kings Road`` (number, capitalised name, street type);
* de: ``Hauptstraße 12``, ``Rosenthaler Straße 1``, ``Am Ring 5a`` (street type, number);
* fr: ``14 rue des Tanneurs``, ``8, avenue Jean Jaurès`` (number, street type, name);
* es: ``calle San Juan 12``, ``Avda. de la Paz, nº 4`` (street type, name, number);
* lt: ``Gedimino pr. 9``, ``Vilniaus g. 12-3`` (name, street type, number).

A house number is required: "a typo in the street name" or "Main Street
branch" are not addresses. Every repetition is bounded and every pattern is
anchored at a word boundary, so the scan stays linear in the text (ingest's
budget, ``services/ingest/budget.py``). Recall on the OpenCage address
formatting test cases is measured by ``casetrail ingest eval-pii``
(docs/security.md).
"""

from __future__ import annotations

import regex

# ``regex`` rather than ``re`` for ``\p{Lu}``: street names are capitalised in all five languages.
_CAP = r"\p{Lu}[\w'’.\-]{0,30}"  # a capitalised word
_NUMBER = r"\d{1,4}(?:[a-zA-Z](?!\w))?(?:[ \t]?[-/][ \t]?\d{1,4}[a-zA-Z]?)?(?!\w)"


def _named(connectors: str) -> str:
    """One to four capitalised words, with the language's lower-case connectors between them."""
    # Connectors are matched lower-case only: a capitalised "De" is then only a word, never both
    # (that ambiguity made "Rue De De De ..." backtrack through every split).
    connector = r"(?:[ \t]+(?:" + connectors + r"))"
    before_word = r"(?:[ \t]+|(?<=['’]))"  # an elided article is written against its word: "d'Esch"
    return connector + r"{0,3}" + before_word + _CAP + r"(?:" + connector + r"{0,3}" + before_word + _CAP + r"){0,3}"


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(regex.escape(word) for word in sorted(words, key=len, reverse=True))


_EN_TYPES = ("street", "st", "st.", "road", "rd", "rd.", "avenue", "ave", "ave.", "lane", "ln", "ln.", "drive", "close",
             "way", "crescent", "place", "court", "gardens", "terrace", "grove", "square", "row", "mews", "walk",
             "boulevard", "parade", "hill")
_HOUSE = r"(?<![\w.,\-])\d{1,5}[A-Za-z]?(?:[ \t]?[-–][ \t]?\d{1,5}[A-Za-z]?)?"  # "12", "4B", "8-9"
_EN = _HOUSE + r",?(?:[ \t]+" + _CAP + r"){1,3}[ \t]+(?i:" + _alternatives(_EN_TYPES) + r")(?!\w)"
# Dutch compounds too: Belgian customers write Flemish street names whatever language they write in.
_DE_TYPES = ("straße", "strasse", "str.", "weg", "platz", "allee", "gasse", "ring", "damm", "ufer", "chaussee", "steig",
             "pfad", "markt", "straat", "laan", "plein", "steenweg")
_DE = (r"(?<!\w)(?:" + _CAP + r"[ \t\-]){0,2}"
       r"(?:\p{Lu}[\w'’\-]{1,40}?(?:" + _alternatives(_DE_TYPES) + r")"
       r"|(?:Straße|Strasse|Str\.|Weg|Platz|Allee|Gasse|Ring|Damm|Ufer))[ \t]{0,3}" + _NUMBER)
_FR_TYPES = ("rue", "avenue", "av.", "boulevard", "bd", "bd.", "chemin", "place", "allée", "impasse", "quai", "route",
             "cours", "square", "passage", "faubourg", "rond-point", "voie", "sentier", "résidence", "chaussée")
_FR_CONNECTORS = r"de|du|des|la|le|les|aux?|d['’]|l['’]"
# France writes the number first ("14 rue des Tanneurs"); Belgium and Switzerland after ("Rue Salmon 67").
_FR = (_HOUSE + r"(?:[ \t]?(?:bis|ter|[a-d])(?!\w))?,?[ \t]+(?i:" + _alternatives(_FR_TYPES) + r")"
       + _named(_FR_CONNECTORS)
       + r"|(?<!\w)(?i:" + _alternatives(_FR_TYPES) + r")" + _named(_FR_CONNECTORS) + r",?[ \t]*" + _NUMBER)
# Catalan types too: addresses in Catalonia, Valencia and the Balearics are written in Catalan.
_ES_TYPES = ("calle", "c/", "avenida", "avda", "avda.", "av.", "plaza", "pza.", "paseo", "camino", "carretera", "ronda",
             "travesía", "callejón", "glorieta", "pasaje", "rambla", "vía", "urbanización", "carrer", "avinguda",
             "passeig", "plaça")
_ES = (r"(?<!\w)(?i:" + _alternatives(_ES_TYPES) + r")"
       + _named(r"de|del|la|las|los|el|y|dels|d['’]|l['’]") + r",?[ \t]*(?:(?i:n[º°o]\.?|núm\.?|número)[ \t]*)?" + _NUMBER)
_LT_TYPES = ("g.", "gatvė", "gatvės", "pr.", "prospektas", "al.", "alėja", "pl.", "aikštė", "skg.", "skersgatvis",
             "kel.", "plentas")
_LT = r"(?<!\w)" + _CAP + r"[ \t]+(?i:" + _alternatives(_LT_TYPES) + r")[ \t]{0,3}" + _NUMBER

# (street-type words, pattern): a pattern runs only when one of its words is in the text at all
# (``str.find`` on the lower-cased text: a regex alternation scan costs ~0.3 s per MiB per language).
_SHAPES = tuple((words, regex.compile(pattern, regex.VERSION0)) for words, pattern in (
    (_EN_TYPES, _EN), (_DE_TYPES, _DE), (_FR_TYPES, _FR), (_ES_TYPES, _ES), (_LT_TYPES, _LT)))


def street_addresses(text: str) -> list[tuple[int, int]]:
    """(start, end) of every street line found, left to right, not overlapping."""
    if not any(ch.isdigit() for ch in text):
        return []
    lowered = text.lower()
    spans = sorted((m.span() for words, pattern in _SHAPES if any(word in lowered for word in words)
                    for m in pattern.finditer(text)), key=lambda span: (span[0], -span[1]))
    kept: list[tuple[int, int]] = []
    for start, end in spans:
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept
