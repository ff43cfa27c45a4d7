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
the sample tenants. A stem names the kind of grant, not its direction: a
clause saying "we cannot make exceptions" still states the *exception* kind,
so a reply citing it is not caught here (negation is not read; the statement
and injection checks and the tenant's rules stay in force).
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
        r"išimt\w*"
    ),
}
_PATTERNS = {kind: re.compile(rf"\b(?:{stems})", _FLAGS) for kind, stems in _KINDS.items()}

GRANT_KINDS: tuple[str, ...] = tuple(_KINDS)


@lru_cache(maxsize=8192)  # clause texts and framing lines come back on every draft that cites them
def grant_kinds(text: str) -> FrozenSet[str]:
    """The kinds of grant ``text`` speaks of (``refund``, ``credit``, ``exception``); empty: none."""
    return frozenset(kind for kind, pattern in _PATTERNS.items() if pattern.search(text))
