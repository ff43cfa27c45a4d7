"""A labelled personal-data set and per-type precision/recall for ``casetrail ingest eval-pii``.

Values: names, postcodes, dates of birth and e-mail addresses from the EVI
records (``../shared/datasets/evi/records.{en,fr,pl}.csv``, PolyAI, CC BY 4.0),
plus generated phone numbers, IBANs, card numbers and national ids (valid
checksums, python-stdnum / phonenumbers) for en/de/fr/es/lt. Each value is
embedded in a ticket-like sentence of one of the five locales; distractor
sentences (order numbers, amounts, ordinary dates, tracking codes) measure
false positives. Scoring: a prediction counts when its type matches a gold
span it overlaps by at least half of the gold span.

Street addresses (``ADDRESS``, ``build_address_set``): the street lines of the
OpenCage address-formatting test cases for GB, IE, DE, AT, CH, FR, BE, LU, ES
and LT (``opencage_street_lines.jsonl``, MIT; the source of each line is next
to it), each in two ticket sentences of its locale. Names without a cue
(``NAME (no cue)``): EVI full names in sentences with no self-introduction and
no name from the source, the redaction gap issue 17 names.
"""

from __future__ import annotations

import csv
import random
import string
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.de import idnr
from stdnum.iso7064 import mod_11_10
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.lt import asmens

from casetrail.privacy.pii import detect

LOCALES = ("en", "de", "fr", "es", "lt")
REGION = {"en": "GB", "de": "DE", "fr": "FR", "es": "ES", "lt": "LT"}
MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
    "lt": ["sausio", "vasario", "kovo", "balandžio", "gegužės", "birželio", "liepos", "rugpjūčio", "rugsėjo", "spalio", "lapkričio", "gruodžio"],
}
TEMPLATES: dict[str, dict[str, list[str]]] = {
    "EMAIL": {
        "en": ["Please reply to {v} instead, order 58213 is still missing.", "My e-mail changed, it is now {v}."],
        "de": ["Bitte antworten Sie an {v}, Bestellung 58213 fehlt noch.", "Meine neue E-Mail-Adresse lautet {v}."],
        "fr": ["Merci de répondre à {v}, la commande 58213 manque toujours.", "Mon adresse e-mail est désormais {v}."],
        "es": ["Por favor respondan a {v}, el pedido 58213 sigue sin llegar.", "Mi correo ahora es {v}."],
        "lt": ["Prašau atsakyti adresu {v}, užsakymas 58213 vis dar negautas.", "Mano naujas el. paštas {v}."],
    },
    "PHONE": {
        "en": ["You can call me on {v} after 5pm.", "My number is {v}, order 4471 arrived broken."],
        "de": ["Sie erreichen mich unter {v} ab 17 Uhr.", "Meine Telefonnummer ist {v}, Bestellung 4471 kam kaputt an."],
        "fr": ["Vous pouvez me joindre au {v} après 17h.", "Mon numéro est le {v}, la commande 4471 est arrivée cassée."],
        "es": ["Pueden llamarme al {v} a partir de las 17h.", "Mi teléfono es {v}, el pedido 4471 llegó roto."],
        "lt": ["Galite skambinti {v} po 17 val.", "Mano telefonas {v}, užsakymas 4471 atėjo sudužęs."],
    },
    "IBAN": {
        "en": ["Please refund the 49.90 to my account {v}.", "IBAN for the refund: {v}"],
        "de": ["Bitte erstatten Sie die 49,90 € auf mein Konto {v}.", "IBAN für die Rückzahlung: {v}"],
        "fr": ["Merci de rembourser les 49,90 € sur mon compte {v}.", "IBAN pour le remboursement : {v}"],
        "es": ["Devuélvanme los 49,90 € a mi cuenta {v}, por favor.", "IBAN para el reembolso: {v}"],
        "lt": ["Prašau grąžinti 49,90 € į sąskaitą {v}.", "Sąskaita grąžinimui: {v}"],
    },
    "CARD": {
        "en": ["I was charged twice on my card {v} for order 99120.", "Card used: {v}"],
        "de": ["Meine Karte {v} wurde für Bestellung 99120 doppelt belastet.", "Verwendete Karte: {v}"],
        "fr": ["Ma carte {v} a été débitée deux fois pour la commande 99120.", "Carte utilisée : {v}"],
        "es": ["Me cobraron dos veces en la tarjeta {v} por el pedido 99120.", "Tarjeta usada: {v}"],
        "lt": ["Už užsakymą 99120 iš kortelės {v} nuskaičiuota du kartus.", "Naudota kortelė: {v}"],
    },
    "NATIONAL_ID": {
        "en": ["For verification my ID number is {v}.", "ID: {v} - please update my account."],
        "de": ["Zur Verifizierung: meine Nummer ist {v}.", "Ausweis/ID: {v}, bitte Konto aktualisieren."],
        "fr": ["Pour vérification, mon numéro est {v}.", "Identifiant : {v}, merci de mettre à jour mon compte."],
        "es": ["Para verificar, mi documento es {v}.", "DNI/NIE: {v}, actualicen mi cuenta por favor."],
        "lt": ["Patvirtinimui mano kodas {v}.", "Asmens kodas: {v}, prašau atnaujinti paskyrą."],
    },
    "NAME": {
        "en": ["Hello, this is about the order for {v}, it never arrived.", "Hi, my name is {v} and I need help with a refund."],
        "de": ["Hallo, es geht um die Bestellung von {v}, sie kam nie an.", "Hallo, mein Name ist {v} und ich brauche Hilfe."],
        "fr": ["Bonjour, il s'agit de la commande de {v}, jamais reçue.", "Bonjour, je m'appelle {v} et j'ai besoin d'aide."],
        "es": ["Hola, es sobre el pedido de {v}, nunca llegó.", "Hola, me llamo {v} y necesito ayuda."],
        "lt": ["Sveiki, tai dėl užsakymo, kurį pateikė {v}, jis neatkeliavo.", "Sveiki, mano vardas {v}, reikia pagalbos."],
    },
    "POSTCODE": {
        "en": ["Please send the replacement to 12 Mill Lane, {v}.", "My postcode is {v} if you need it."],
        "fr": ["Merci d'envoyer le remplacement au 12 rue des Lilas, {v} {city}.", "Mon code postal est {v}."],
    },
    "DATE_OF_BIRTH": {
        "en": ["My date of birth is {v}, as on the account.", "Born {v}, account holder."],
        "de": ["Mein Geburtsdatum ist der {v}.", "Geboren am {v}, Kontoinhaber."],
        "fr": ["Ma date de naissance est le {v}.", "Née le {v}, titulaire du compte."],
        "es": ["Mi fecha de nacimiento es {v}.", "Nacido el {v}, titular de la cuenta."],
        "lt": ["Mano gimimo data {v}.", "Gimęs {v}, paskyros savininkas."],
    },
}
DISTRACTORS = {
    "en": ["Order 4471229 was placed on 2025-03-02 and cost 129.99.", "Tracking code 1Z999AA10123456784, parcel 3 of 4.", "I paid 1,249.00 on 12/02/2025 for invoice 2025-00871."],
    "de": ["Bestellung 4471229 vom 02.03.2025 kostete 129,99 €.", "Sendungsnummer 00340434161094042557, Paket 3 von 4.", "Rechnung 2025-00871 über 1.249,00 € am 12.02.2025 bezahlt."],
    "fr": ["La commande 4471229 du 02/03/2025 a coûté 129,99 €.", "Numéro de suivi 6A12345678901, colis 3 sur 4.", "Facture 2025-00871 de 1 249,00 € payée le 12/02/2025."],
    "es": ["El pedido 4471229 del 02/03/2025 costó 129,99 €.", "Número de seguimiento PK123456789ES, paquete 3 de 4.", "Factura 2025-00871 de 1.249,00 € pagada el 12/02/2025."],
    "lt": ["Užsakymas 4471229, pateiktas 2025-03-02, kainavo 129,99 €.", "Siuntos numeris LY123456789LT, pakuotė 3 iš 4.", "Sąskaita 2025-00871, 1 249,00 € sumokėta 2025-02-12."],
}
ADDRESS_TEMPLATES = {
    "en": ["Please send the replacement to {v}, the old flat is empty now.", "New delivery address: {v}\nThanks"],
    "de": ["Bitte liefern Sie an {v}, ich bin umgezogen.", "Neue Lieferadresse: {v}\nDanke"],
    "fr": ["Merci de livrer au {v}, j'ai déménagé.", "Nouvelle adresse de livraison : {v}\nMerci"],
    "es": ["Por favor envíenlo a {v}, me he mudado.", "Nueva dirección de entrega: {v}\nGracias"],
    "lt": ["Prašau pristatyti adresu {v}, persikrausčiau.", "Naujas pristatymo adresas: {v}\nAčiū"],
}
UNCUED_NAME_TEMPLATES = {
    "en": ["Please leave the parcel with {v} at the reception.", "The order was a gift for {v}, can you add a note?"],
    "de": ["Bitte geben Sie das Paket bei {v} am Empfang ab.", "Die Bestellung war ein Geschenk für {v}."],
    "fr": ["Merci de laisser le colis à {v} à l'accueil.", "La commande était un cadeau pour {v}."],
    "es": ["Por favor dejen el paquete a {v} en recepción.", "El pedido era un regalo para {v}."],
    "lt": ["Prašau palikti siuntinį {v} registratūroje.", "Užsakymas buvo dovana, gavėjas {v}."],
}
STREET_LINES = Path(__file__).with_name("opencage_street_lines.jsonl")
# The street line the POSTCODE templates carry: gold ADDRESS spans, so they are not counted as false positives.
TEMPLATE_STREETS = ("12 Mill Lane", "12 rue des Lilas")
FR_CITIES = ["Lyon", "Mâcon", "Nantes", "Besançon", "Orléans", "Rennes"]


@dataclass
class Example:
    text: str
    locale: str
    gold: list[tuple[str, int, int]]
    known_names: tuple[str, ...] = ()
    group: str = ""  # e.g. "NAME (no source name)"


@dataclass
class Scores:
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)

    def table(self) -> list[tuple[str, int, float, float]]:
        rows = []
        for kind in sorted(set(self.tp) | set(self.fp) | set(self.fn)):
            tp, fp, fn = self.tp[kind], self.fp[kind], self.fn[kind]
            precision = tp / (tp + fp) if tp + fp else 1.0
            recall = tp / (tp + fn) if tp + fn else 1.0
            rows.append((kind, tp + fn, precision, recall))
        return rows


# ------------------------------------------------------------ generators
def _phone(rng: random.Random, locale: str) -> str:
    region = REGION[locale]
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE if rng.random() < 0.6 else phonenumbers.PhoneNumberType.FIXED_LINE)
    national = str(example.national_number)
    for _ in range(200):
        digits = national[:3] + "".join(rng.choice(string.digits) for _ in national[3:])
        number = phonenumbers.parse("+" + str(example.country_code) + digits, None)
        if phonenumbers.is_valid_number(number):
            style = rng.choice([phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.E164])
            return phonenumbers.format_number(number, style)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_BBAN = {"LT": 16, "DE": 18, "FR": 23, "ES": 20, "GB": 18}


def _iban(rng: random.Random, locale: str) -> str:
    country = {"en": "GB", "de": "DE", "fr": "FR", "es": "ES", "lt": "LT"}[locale]
    for _ in range(100_000):
        if country == "GB":
            bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + "".join(rng.choice(string.digits) for _ in range(14))
        else:
            bban = "".join(rng.choice(string.digits) for _ in range(_BBAN[country]))
        check = std_iban.calc_check_digits(country + "00" + bban)
        candidate = country + check + bban
        if std_iban.is_valid(candidate):
            return std_iban.format(candidate) if rng.random() < 0.7 else candidate
    raise RuntimeError(f"could not generate an IBAN for {country}")


def _card(rng: random.Random) -> str:
    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16)])
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    number = body + luhn.calc_check_digit(body)
    style = rng.random()
    if style < 0.5:
        if length == 15:
            return f"{number[:4]} {number[4:10]} {number[10:]}"
        return " ".join(number[i:i + 4] for i in range(0, 16, 4))
    if style < 0.7 and length == 16:
        return "-".join(number[i:i + 4] for i in range(0, 16, 4))
    return number


def _national_id(rng: random.Random, locale: str) -> str:
    if locale in ("lt", "en"):
        year, month, day = rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)
        century = 3 if year < 2000 else 5
        first = century + rng.randint(0, 1)
        body = f"{first}{year % 100:02d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
        return body + asmens.calc_check_digit(body + "0")  # stdnum ignores the last digit
    if locale == "de":
        for _ in range(10_000):
            body = str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(9))
            candidate = body + mod_11_10.calc_check_digit(body)
            if idnr.is_valid(candidate):
                return candidate if rng.random() < 0.6 else f"{candidate[:2]} {candidate[2:5]} {candidate[5:8]} {candidate[8:]}"
    if locale == "fr":
        body = f"{rng.randint(1, 2)}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
        if body[5:7] == "20":
            body = body[:5] + "21" + body[7:]
        key = f"{97 - int(body) % 97:02d}"
        value = body + key
        assert nir.is_valid(value), value
        return value if rng.random() < 0.5 else f"{value[0]} {value[1:3]} {value[3:5]} {value[5:7]} {value[7:10]} {value[10:13]} {value[13:]}"
    if rng.random() < 0.7:
        body = f"{rng.randint(0, 99_999_999):08d}"
        return body + dni.calc_check_digit(body)
    prefix = rng.choice("XYZ")
    body = f"{rng.randint(0, 9_999_999):07d}"
    return prefix + body + nie.calc_check_digit(prefix + body)


def _dob(rng: random.Random, locale: str, iso: str) -> str:
    year, month, day = iso.split("-")
    m = int(month)
    style = rng.random()
    if locale == "en":
        return f"{day}/{month}/{year}" if style < 0.5 else f"{int(day)} {MONTHS['en'][m - 1]} {year}"
    if locale == "de":
        return f"{day}.{month}.{year}" if style < 0.5 else f"{int(day)}. {MONTHS['de'][m - 1]} {year}"
    if locale == "fr":
        return f"{day}/{month}/{year}" if style < 0.5 else f"{int(day)} {MONTHS['fr'][m - 1]} {year}"
    if locale == "es":
        return f"{day}/{month}/{year}" if style < 0.5 else f"{int(day)} de {MONTHS['es'][m - 1]} de {year}"
    return iso if style < 0.5 else f"{year} m. {MONTHS['lt'][m - 1]} {int(day)} d."


def _records(evi_dir: Path, language: str) -> list[dict]:
    with (evi_dir / f"records.{language}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _embed(template: str, value: str, kind: str, locale: str, rng: random.Random, known: tuple[str, ...] = (), group: str = "") -> Example:
    city = rng.choice(FR_CITIES)
    prefix, _, suffix = template.partition("{v}")
    prefix = prefix.replace("{city}", city)
    suffix = suffix.replace("{city}", city)
    text = prefix + value + suffix
    return Example(text, locale, [(kind, len(prefix), len(prefix) + len(value))], known, group or kind)


def build_dataset(evi_dir: Path, per_type: int = 400, seed: int = 7) -> list[Example]:
    rng = random.Random(seed)
    people = {lang: _records(evi_dir, lang) for lang in ("en", "fr", "pl")}
    pool = people["en"] + people["fr"] + people["pl"]
    examples: list[Example] = []

    def locale_cycle(i: int) -> str:
        return LOCALES[i % len(LOCALES)]

    for i in range(per_type):
        locale = locale_cycle(i)
        person = rng.choice(pool)
        examples.append(_embed(rng.choice(TEMPLATES["EMAIL"][locale]), person["email"], "EMAIL", locale, rng))
        examples.append(_embed(rng.choice(TEMPLATES["PHONE"][locale]), _phone(rng, locale), "PHONE", locale, rng))
        examples.append(_embed(rng.choice(TEMPLATES["IBAN"][locale]), _iban(rng, locale), "IBAN", locale, rng))
        examples.append(_embed(rng.choice(TEMPLATES["CARD"][locale]), _card(rng), "CARD", locale, rng))
        examples.append(_embed(rng.choice(TEMPLATES["NATIONAL_ID"][locale]), _national_id(rng, locale), "NATIONAL_ID", locale, rng))
        name = person["name"]
        examples.append(_embed(rng.choice(TEMPLATES["NAME"][locale]), name, "NAME", locale, rng, known=(name,)))
        examples.append(_embed(rng.choice(TEMPLATES["NAME"][locale]), name, "NAME", locale, rng, group="NAME (no source name)"))
        examples.append(_embed(rng.choice(TEMPLATES["DATE_OF_BIRTH"][locale]), _dob(rng, locale, person["dob"]), "DATE_OF_BIRTH", locale, rng))
        home = rng.choice(["en", "fr"])
        postcode = rng.choice(people[home])["postcode"]
        examples.append(_with_template_street(
            _embed(rng.choice(TEMPLATES["POSTCODE"][home]), postcode, "POSTCODE", home, rng)))
        examples.append(Example(rng.choice(DISTRACTORS[locale]), locale, [], (), "distractor"))
    return examples


def _with_template_street(example: Example) -> Example:
    for street in TEMPLATE_STREETS:
        at = example.text.find(street)
        if at >= 0:
            example.gold.append(("ADDRESS", at, at + len(street)))
    return example


def build_address_set(evi_dir: Path, seed: int = 7) -> list[Example]:
    """Every OpenCage street line in each ADDRESS template of its locale; EVI names without a cue."""
    import json

    rng = random.Random(seed)
    examples = []
    for line in STREET_LINES.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        for template in ADDRESS_TEMPLATES[row["locale"]]:
            examples.append(_embed(template, row["street_line"], "ADDRESS", row["locale"], rng, group="ADDRESS (OpenCage street lines)"))
    people = _records(evi_dir, "en") + _records(evi_dir, "fr") + _records(evi_dir, "pl")
    for i in range(200):
        locale = LOCALES[i % len(LOCALES)]
        examples.append(_embed(rng.choice(UNCUED_NAME_TEMPLATES[locale]), rng.choice(people)["name"], "NAME", locale, rng,
                               group="NAME (no cue)"))
    return examples


def score(examples: Iterable[Example], *, use_locale: bool = True) -> dict[str, Scores]:
    by_group: dict[str, Scores] = defaultdict(Scores)
    for example in examples:
        predicted = detect(example.text, example.locale if use_locale else None, example.known_names)
        scores = by_group[example.group]
        matched_gold: set[int] = set()
        for finding in predicted:
            hit = None
            for index, (kind, start, end) in enumerate(example.gold):
                overlap = min(end, finding.end) - max(start, finding.start)
                if kind == finding.kind.value and overlap >= (end - start) / 2 and index not in matched_gold:
                    hit = index
                    break
            if hit is None:
                scores.fp[finding.kind.value] += 1
            else:
                matched_gold.add(hit)
                scores.tp[finding.kind.value] += 1
        for index, (kind, _, _) in enumerate(example.gold):
            if index not in matched_gold:
                scores.fn[kind] += 1
    return dict(by_group)


def summarise(groups: dict[str, Scores]) -> list[dict]:
    """Rows per type: precision over every sentence (distractors count as false positives), recall per gold type."""
    total = Scores()
    for name, scores in groups.items():
        if name in ("NAME (no source name)", "ADDRESS (OpenCage street lines)", "NAME (no cue)"):
            continue
        total.tp.update(scores.tp)
        total.fp.update(scores.fp)
        total.fn.update(scores.fn)
    rows = [{"type": kind, "gold": gold, "precision": p, "recall": r} for kind, gold, p, r in total.table()]
    for group, wanted in (("NAME (no source name)", "NAME"), ("ADDRESS (OpenCage street lines)", "ADDRESS"),
                          ("NAME (no cue)", "NAME")):
        extra = groups.get(group)
        if extra is None:
            continue
        for kind, gold, p, r in extra.table():
            if kind == wanted:
                rows.append({"type": group, "gold": gold, "precision": p, "recall": r})
    return rows
