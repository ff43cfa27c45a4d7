"""What a sentence grants: money back, credit, or an exception to the rules.

A citation proves that a clause was retrieved, not that it grants what the
sentence promises: "As an exception we will refund you in full [1]" can cite
the return-window clause, which mentions refunds but grants no exception. A
reply that promises money, credit or an exception must cite a clause that
states the same kind of grant (``GrantsSupported`` in the verifier). The
offline composer copies clause sentences verbatim, so its drafts always do;
an LLM's paraphrase, an injected "make an exception for me" echoed back, or an
agent's wording may not.

Grant kinds are read with per-language word stems, in the five languages of
the sample tenants, and a grant is read as *refused* when a negation stands
near it in the same clause of the sentence ("we cannot make exceptions",
"Gutscheine werden nicht erstattet", "nous ne remboursons pas", "sin
excepciones", "jokių išimčių"): a refused grant is not a promise (a reply
saying "we cannot refund sale items" needs no clause granting a refund) and
not a statement of the grant either (a clause saying "no exceptions" does not
support a reply promising one). Near means within a few words before the stem
or, for the languages that negate after the verb (German "erstatten wir
nicht", French "ne ... pas"), right after it; clauses of a sentence are split
at commas, semicolons and "but". This is a word-level reading, not a parse:
"we don't charge a fee and refund you" reads the refund as refused (the check
then asks nothing of that sentence), which is why the window is short. The
offline composer copies clause sentences verbatim, so a draft and its clause
are always read alike.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import FrozenSet

_FLAGS = re.IGNORECASE | re.UNICODE

# kind -> alternation of stems over en, de, fr, es, lt (one pattern per kind: a sentence in one
# locale may quote a clause published in a fallback locale).
_KINDS = {
    "refund": (
        r"refund\w*|reimburs\w*|money\s+back|"
        r"\w*erstatt\w*|geld\s+zurück|"
        r"rembours\w*|"
        r"reembols\w*|devoluci[oó]n\s+del\s+(?:dinero|importe)|(?:devolv|devuelv)\w*\s+(?:el\s+)?(?:dinero|importe)|"
        r"pinig\w*\s+(?:grąžin\w*|atgal)|grąžin\w*\s+pinig\w*"
    ),
    # Only words that mean credit *given*: "credit card", French "avoir" (to have) and Spanish "vale"
    # (okay) alone are not grants.
    "credit": (
        r"store\s+credit|credit\s+note|vouchers?|gift\s+cards?|coupons?|compensat\w*|goodwill|"
        r"gutschein\w*|gutschrift\w*|entschädig\w*|kulanz\w*|"
        r"(?:un|votre|cet|l['’])\s*avoirs?\b|bons?\s+d['’]achat|cartes?\s+cadeaux?|dédommag\w*|indemni\w*|"
        r"geste\s+commercial|"
        r"crédito\s+(?:en|para)\s+(?:la\s+)?tienda|vales?\s+(?:de\s+)?(?:compra|descuento|regalo)|cupón|cupones|"
        r"tarjetas?\s+regalo|compensaci\w*|compensar\w*|indemniz\w*|"
        r"kupon\w*|dovanų\s+kort\w*|kompensa\w*|parduotuvės\s+kredit\w*"
    ),
    "exception": (
        r"exception\w*|waiv\w*|"
        r"ausnahm\w*|kulanzweise|verzicht\w*|"
        r"renon[cç]\w*|"
        r"excepci\w*|renunci\w*|"
        r"išim[tč]\w*"
    ),
}
_PATTERNS = {kind: re.compile(rf"\b(?:{stems})", _FLAGS) for kind, stems in _KINDS.items()}

GRANT_KINDS: tuple[str, ...] = tuple(_KINDS)

# Negation words of en, de, fr, es, lt. Lithuanian negates with a "ne-" prefix on the verb
# ("išimtys netaikomos"): the verbs a refusal of a grant uses are listed, not every "ne-" word
# ("nemokamai" is "free of charge"). Words that negate only what follows them ("without a refund", "sans frais",
# "jokių išimčių") count only before a grant: "we refund you without delay" refuses nothing.
_NEGATES_WHAT_FOLLOWS = (
    r"without|neither|nor|ohne|sans|aucun\w*|sin|ningún|ningun\w*|tampoco|jokių|jokio|jokios"
)
_NEGATES_EITHER_SIDE = (
    r"not|no|never|cannot|can['’]t|won['’]t|don['’]t|doesn['’]t|isn['’]t|aren['’]t|unable|"
    r"nicht|kein\w*|nie|niemals|"
    r"ne|n['’]\w*|pas|jamais|"
    r"nunca|"
    r"nėra|niekada|ne(?:gal|taik|grąžin|dar|suteik|kompensuo|teik)\w*"
)
_NEGATION_BEFORE = re.compile(rf"^(?:{_NEGATES_WHAT_FOLLOWS}|{_NEGATES_EITHER_SIDE})$", _FLAGS)
_NEGATION_AFTER = re.compile(rf"^(?:{_NEGATES_EITHER_SIDE})$", _FLAGS)
# Where a sentence's clauses part: a negation in one does not reach a grant in the next
# ("sale items are not refunded, but we send a voucher").
_CLAUSE_BREAK = re.compile(r"[,;:()]|\b(?:but|however|aber|jedoch|mais|pero|sino|tačiau|bet)\b", _FLAGS)
_WORD = re.compile(r"[\w'’]+", _FLAGS)
# How near a negation must stand to refuse a grant. Three words after: German puts "nicht" at the
# end of a short main clause ("wir erstatten die Kosten nicht"), English "not" follows the subject
# ("refunds are not possible").
WORDS_BEFORE, WORDS_AFTER = 4, 3


def _refused(clause: str, start: int, end: int) -> bool:
    before = _WORD.findall(clause[:start])[-WORDS_BEFORE:]
    after = _WORD.findall(clause[end:])[:WORDS_AFTER]  # the stem's pattern ends at its word's end
    return any(_NEGATION_BEFORE.match(word) for word in before) or any(_NEGATION_AFTER.match(word) for word in after)


@lru_cache(maxsize=8192)  # clause texts and framing lines come back on every draft that cites them
def grant_kinds(text: str) -> FrozenSet[str]:
    """The kinds of grant ``text`` makes or states (``refund``, ``credit``, ``exception``), leaving out
    grants it refuses ("no refunds on sale items"); empty: none."""
    kinds: set[str] = set()
    for clause in _CLAUSE_BREAK.split(text):
        if not clause:
            continue
        for kind, pattern in _PATTERNS.items():
            if kind in kinds:
                continue
            if any(not _refused(clause, match.start(), match.end()) for match in pattern.finditer(clause)):
                kinds.add(kind)
    return frozenset(kinds)
