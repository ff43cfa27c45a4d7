"""A dead letter's original bytes, opened through the key store.

Dead letters written since the DeadLetter v2 schema keep their original bytes sealed
(``casetrail/runtime/dead_letters.py``); older ones (v1) hold them raw. Whoever shows or replays a
dead letter asks here, and hears *erased* once the key is gone (the customer was erased, or the
record's own key outlived the dead-letter retention): the bytes are gone for good.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from casetrail.events import DeadLetter

if TYPE_CHECKING:
    from casetrail.privacy.keystore import KeyStore


class OriginalState(str, enum.Enum):
    opened = "opened"  # sealed, and the key store opened it
    raw = "raw"  # a v1 dead letter: written before sealing
    erased = "erased"  # sealed, and its key was destroyed
    absent = "absent"  # the record had no value


@dataclass(frozen=True)
class Original:
    state: OriginalState
    value: Optional[bytes] = None
    erased_at: Optional[str] = None


def open_original(letter: DeadLetter, keystore: "KeyStore") -> Original:
    """The dead letter's original value; ``KeyStoreBusy`` and unknown keys propagate (not *erased*)."""
    from casetrail.privacy.keystore import KeyErased

    if letter.sealed_original_value is None:
        if letter.original_value is None:
            return Original(OriginalState.absent)
        return Original(OriginalState.raw, letter.original_value)
    try:
        return Original(OriginalState.opened, keystore.open_bytes(letter.sealed_original_value))
    except KeyErased as erased:
        return Original(OriginalState.erased, erased_at=erased.erased_at)
