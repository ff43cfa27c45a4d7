"""Statements supported: each cited sentence says only what its clause says.

Numbers, amounts, percentages, durations, dates and times in a cited sentence
must appear in, or follow from, the cited clause (``€40`` follows from ``up to
50 EUR``; ``60 days`` does not follow from ``30 days``). A sentence that makes
a factual claim (a quantity, or a policy term such as refund/Erstattung/
remboursement/reembolso/grąžinimas outside courtesy phrases) and cites nothing
fails: the drafter's rule is "no grounding, no statement".
"""

from __future__ import annotations

import re

from services.verifier.checks import FAILED, Outcome
from services.verifier.quantities import extract_quantities, supported_by
from services.verifier.review import DraftUnderReview
from services.verifier.sentences import PLACEHOLDER, Sentence, normalise

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


def is_factual(sentence: Sentence, locale: str, quantities_of=None) -> bool:
    """Does an uncited sentence make a claim that needs a clause behind it?"""
    plain = PLACEHOLDER.sub(" ", sentence.plain).strip()
    if quantities_of is None:
        quantities_of = lambda text: extract_quantities(text, locale)  # noqa: E731
    if not plain:
        return False
    if quantities_of(plain):
        return True
    if plain.rstrip().endswith("?") or COURTESY.match(plain.lstrip("¡¿\"'«„ ")):
        return False
    return bool(CLAIM_TERMS.search(plain))


def _excerpt(text: str, limit: int = 80) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class StatementsSupported:
    name = "statements_supported"
    severity = FAILED

    def __init__(self, policy, **_):
        self.policy = policy

    def run(self, review: DraftUnderReview) -> Outcome:
        problems: list[str] = []
        checked = 0
        reply_key = normalise(review.draft.reply_text)
        for citation in review.draft.citations:
            cited = normalise(citation.sentence)
            if cited and cited not in reply_key:
                problems.append(f"{citation.ref}: its sentence is not in the reply: {_excerpt(citation.sentence)!r}")

        for sentence in review.sentences:
            if review.is_disclosure(sentence):
                continue
            refs = review.refs_for(sentence)
            if not refs:
                if is_factual(sentence, review.locale, review.quantities):
                    problems.append(f"uncited claim: {_excerpt(sentence.plain)!r}")
                continue
            evidence = [q for ref in refs for q in review.clause_quantities(ref)]
            known = [ref for ref in refs if ref in review.retrieved]
            if not known:
                problems.append(f"no retrieved clause behind {_excerpt(sentence.plain)!r}")
                continue
            checked += 1
            for claim in review.quantities(sentence.plain):
                if not supported_by(claim, evidence):
                    problems.append(f"{claim.describe()!r} is not in {', '.join(known)}")
        if problems:
            return Outcome(False, "; ".join(dict.fromkeys(problems)))
        return Outcome(True, f"{checked} cited sentence(s) supported; no uncited claims")
