"""Which reply sentences are claims that need support, and what may support them.

The one definition of what a reply may contain, shared by the drafter (which
composes only parts it can support) and the verifier (which checks every part):

- **framing** — greeting, thanks, apologies, restating the question, closing, the
  AI disclosure: no quantity and no policy term, so nothing to support;
- **clause statements** — a sentence citing ``clause_id@kb_version`` of a clause
  retrieved for this draft; every number, amount, duration, date or time in it
  must appear in (or follow from) the cited clause (``casetrail.grounding.quantities``);
- **customer-provided facts** — a quantity the customer wrote (an order number, a
  date of their purchase) repeated back in a sentence that makes no policy claim:
  supported by the customer's own message, nothing else (``customer_fact``);
- **alternatives** (store credit, exchange, ...) are clause statements like any other:
  the clause is retrieved and cited.

Anything else — an uncited sentence with a policy term or a quantity the customer
did not write — is an unsupported claim.
"""

from __future__ import annotations

import re
from typing import Callable, Optional, Sequence

from casetrail.grounding.quantities import Quantity, extract_quantities
from casetrail.grounding.sentences import PLACEHOLDER, Sentence

# Stems of words that make a sentence a claim about the tenant's terms.
CLAIM_TERMS = re.compile(
    r"\b(?:"
    # en
    r"refund\w*|return\w*|exchang\w*|replace\w*|warrant\w*|guarantee\w*|deliver\w*|shipping|ship(?:s|ped)?|"
    r"dispatch\w*|free\s+of\s+charge|fees?|charged?|costs?|prices?|discount\w*|vouchers?|coupons?|credit\w*|"
    r"compensat\w*|cancel\w*|eligible|entitled|reimburs\w*|expir\w*|approv\w*|investigat\w*|tracking|"
    # de
    r"\w*erstatt\w*|rückgabe\w*|zurück(?:geben|senden|schicken|zahlen)|umtausch\w*|garantie\w*|gewährleistung\w*|"
    r"liefer\w*|versand\w*|versende\w*|kostenlos\w*|gebühr\w*|kosten\w*|preis\w*|rabatt\w*|gutschein\w*|"
    r"gutschrift\w*|entschädig\w*|storn\w*|kündig\w*|anspruch|berechtigt|frist\w*|genehmig\w*|"
    # fr
    r"rembours\w*|retour\w*|retourn\w*|échang\w*|garanti\w*|livr\w*|expédi\w*|gratuit\w*|frais|prix|réduction\w*|"
    r"remise\w*|bons?\s+d['’]achat|avoirs?|indemni\w*|annul\w*|résili\w*|éligible\w*|délai\w*|approuv\w*|"
    # es
    r"reembols\w*|devol\w*|devuelv\w*|cambi(?:o|ar)\w*|garantía\w*|entreg\w*|envío\w*|envia\w*|gratis|gratuit\w*|"
    r"tarifas?|cargos?|costes?|costos?|precios?|descuento\w*|cupón\w*|vales?|crédito\w*|compensa\w*|cancela\w*|"
    r"plazos?|aprob\w*|"
    # lt
    r"(?:ne)?grąžin\w*|grąžą|atgau\w*|pinig\w*|(?:ne)?keit\w*|pakeit\w*|garantij\w*|(?:ne)?pristat\w*|"
    r"(?:ne)?siunt\w*|išsiunt\w*|nemokam\w*|mokest\w*|kain\w*|"
    r"nuolaid\w*|kupon\w*|kredit\w*|kompensa\w*|atšauk\w*|nutrauk\w*|terminas|termino|patvirtin\w*"
    r")",
    re.IGNORECASE | re.UNICODE,
)

# Courtesy and framing sentences: thanks, greetings, apologies, sign-offs, restating the question.
COURTESY = re.compile(
    r"^(?:"
    r"thank|thanks|hello|hi\b|dear|good\s+(?:morning|afternoon|evening)|sorry|we(?:'re|\s+are)\s+sorry|"
    r"i(?:'m|\s+am)\s+sorry|we\s+apologi[sz]e|apologies|kind\s+regards|best\s+regards|regards|best\b|"
    r"i\s+understand|we\s+understand|you\s+(?:asked|wrote|mentioned)|your\s+(?:message|question)|"
    r"we\s+hope|i\s+hope|have\s+a\s+|please\s+(?:let\s+us\s+know|reply|get\s+in\s+touch)|if\s+you\s+have\s+(?:any\s+)?(?:other|more|further)|"
    r"danke|vielen\s+dank|hallo|guten\s+(?:tag|morgen|abend)|sehr\s+geehrte|liebe[rs]?\b|es\s+tut\s+uns\s+leid|"
    r"entschuldig|mit\s+freundlichen|freundliche\s+grüße|viele\s+grüße|beste\s+grüße|wir\s+verstehen|"
    r"sie\s+(?:haben\s+)?(?:fragten|gefragt|schreiben)|ihre\s+(?:nachricht|frage)|wir\s+hoffen|bei\s+weiteren\s+fragen|"
    r"merci|bonjour|bonsoir|cher|chère|madame|monsieur|nous\s+sommes\s+désolés|désolé|veuillez\s+nous\s+excuser|"
    r"cordialement|bien\s+cordialement|nous\s+comprenons|vous\s+(?:avez\s+)?(?:demandé|écrit)|votre\s+(?:message|question)|"
    r"nous\s+espérons|si\s+vous\s+avez\s+d['’]autres|"
    r"gracias|hola|buen[oa]s\s+(?:días|tardes|noches)|estimad[oa]|lo\s+sentimos|sentimos|disculp|perdón|"
    r"saludos|atentamente|un\s+saludo|entendemos|usted\s+(?:preguntó|escribió)|su\s+(?:mensaje|pregunta)|"
    r"esperamos|si\s+tiene\s+(?:alguna\s+)?(?:otra|más)|"
    r"ačiū|dėkojame|dėkui|sveiki|laba\s+diena|labas|gerb\.|gerbiam|atsiprašome|apgailestaujame|pagarbiai|"
    r"su\s+pagarba|linkėjimai|suprantame|jūs\s+(?:klausėte|rašėte)|jūsų\s+(?:žinut|klausim)|tikimės|"
    r"jei\s+turite\s+(?:kitų|daugiau)"
    r")",
    re.IGNORECASE | re.UNICODE,
)



def _default_quantities(locale: str) -> Callable[[str], list[Quantity]]:
    return lambda text: extract_quantities(text, locale)


def has_claim_terms(text: str) -> bool:
    return bool(CLAIM_TERMS.search(text))


def is_factual(sentence: Sentence, locale: str, quantities_of=None) -> bool:
    """Does an uncited sentence make a claim that needs a clause (or the customer's word) behind it?"""
    plain = PLACEHOLDER.sub(" ", sentence.plain).strip()
    quantities_of = quantities_of or _default_quantities(locale)
    if not plain:
        return False
    if quantities_of(plain):
        return True
    if plain.rstrip().endswith("?") or COURTESY.match(plain.lstrip("¡¿\"'«„ ")):
        return False
    return has_claim_terms(plain)


def customer_fact(sentence: Sentence, locale: str, customer_text: str, quantities_of=None) -> Optional[bool]:
    """Is an uncited sentence a customer-provided fact? True / False; None when it has no quantity.

    True when it makes no policy claim (no policy term, or a courtesy sentence that only
    thanks or restates the question) and every quantity in it appears in what the customer
    wrote (``customer_text``): "thank you for your message about your return (order 48213)"
    is supported by the ticket; "we refund 48 EUR" is not (a policy term), nor is a number
    the customer never wrote.
    """
    quantities_of = quantities_of or _default_quantities(locale)
    plain = PLACEHOLDER.sub(" ", sentence.plain).strip()
    claimed = quantities_of(plain)
    if not claimed:
        return None
    rest = _without_quantities(plain, claimed)
    if has_claim_terms(rest) and not COURTESY.match(rest.lstrip("¡¿\"'«„ ")):
        return False  # a policy statement, unless it only thanks or restates ("your message about your return")
    written = quantities_of(PLACEHOLDER.sub(" ", customer_text))
    return all(any(_same(claim, said) for said in written) or _digits_written(claim, customer_text)
               for claim in claimed)


def _same(claim: Quantity, said: Quantity) -> bool:
    return claim.kind == said.kind and claim.value == said.value and claim.unit == said.unit


def _digits_written(claim: Quantity, customer_text: str) -> bool:
    """A plain number whose digits the customer wrote as a reference ("#55120", "A-55120")."""
    digits = re.sub(r"\D", "", claim.text)
    return claim.kind == "number" and len(digits) >= 4 and re.search(rf"(?<!\d){digits}(?!\d)", customer_text) is not None


def _without_quantities(text: str, quantities: Sequence[Quantity]) -> str:
    for quantity in quantities:
        if quantity.text:
            text = text.replace(quantity.text, " ")
    return text
