"""The dev set's two halves, by ticket id: the TUNE half (odd ids, ``dev-en-0007``) is where models,
thresholds and knowledge-base changes are fitted and chosen; the CHECK half (even ids) is only measured,
so that overfitting to the dev set shows. Every command that splits the dev set uses this one definition
(``eval triage``, ``eval calibrate``, ``eval readings``); the halves' figures in docs/benchmarks.md were
read with it. It must not change: a ticket moved from the check half to the tune half is no longer held out.
"""

from __future__ import annotations

import re

TUNE, CHECK = "tune", "check"
HALVES = (TUNE, CHECK)
_NUMBER = re.compile(r"(\d+)$")


def half_of(ticket_id: str) -> str:
    """``tune`` for an id ending in an odd number (``dev-en-0001``), ``check`` for one ending in an even
    number (``dev-lt-0320``); an id that does not end in a number is ``tune`` (every dev-set id does)."""
    match = _NUMBER.search(ticket_id)
    return CHECK if match and int(match.group(1)) % 2 == 0 else TUNE
