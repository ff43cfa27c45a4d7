"""Entities the reply mentions back to the customer (order number), from the redacted text.

Ingest replaces personal data with typed placeholders before the drafter sees
anything; an order number is either kept as written (``#A-10234``, ``order
558120``) or replaced by ``[ORDER_1]``, which the draft repeats verbatim so
the outbound channel can re-insert the value.
"""

from __future__ import annotations

import re
from typing import Optional

_PLACEHOLDER = re.compile(r"\[ORDER_\d+\]")
_ORDER_WORDS = r"(?:order|bestellung|bestellnummer|commande|pedido|užsakym\w*|uzsakym\w*)"
_NUMBERED = re.compile(_ORDER_WORDS + r"\s*(?:no\.?|nr\.?|n[°º]|number|nummer|numéro|número)?\s*[:#]?\s*([A-Z]{0,3}-?\d{4,12})", re.IGNORECASE)
_HASH = re.compile(r"#\s?([A-Z]{0,3}-?\d{4,12})\b")


def order_reference(text: str) -> Optional[str]:
    """The first order reference in ``text``: a placeholder, ``order 12345``, or ``#12345``."""
    if not text:
        return None
    placeholder = _PLACEHOLDER.search(text)
    if placeholder:
        return placeholder.group(0)
    for pattern in (_NUMBERED, _HASH):
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None
