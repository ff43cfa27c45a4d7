"""The ``::: questions`` div that ends a clause: what customers ask that the clause answers.

A clause body may end with a Pandoc fenced div listing questions, one
Markdown list item each::

    ## Delivery times {#shipping.times}
    Standard delivery takes 2 to 5 business days within the EU.

    ::: questions
    - How long does delivery take?
    - when will my order arrive if I order today
    :::

The questions anchor retrieval (a customer's question is compared with them
as well as with the clause text) but are not citable: drafts quote the body
only. They are part of the clause's content, so they change the KB version.

A second div, ``::: not_when``, lists requests the clause does *not* answer
although it reads close to them — typically a how-to clause and the customer
reporting that the how-to already failed::

    ::: not_when
    - the reset e-mail never arrives
    - I tried the reset link and it says it expired
    :::

Retrieval demotes the clause when a request is closer to one of these than
to anything the clause answers (``casetrail.knowledge.not_when``), so the
specific clause wins, or nothing does and a person answers. The two divs end
the clause in either order, each at most once; the same rules apply to both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Protocol, Sequence

import numpy as np


class Anchored(Protocol):
    """What embedding questions needs of a clause (clauses.py imports this module, not the reverse)."""

    questions: tuple[str, ...]

_OPEN = re.compile(r"^\s*:{3,}\s*(?:\{\s*\.?([\w-]+)\s*\}|([\w-]+))\s*$")
_CLOSE = re.compile(r"^\s*:{3,}\s*$")
_ITEM = re.compile(r"^\s*[-*+]\s+(.*\S)\s*$")
_CODE_FENCE = re.compile(r"^\s*(```|~~~)")
DIV_CLASS = "questions"
#: phrasings of requests the clause does NOT answer although it reads close to them (casetrail.knowledge.not_when)
NOT_WHEN_CLASS = "not_when"
DIV_CLASSES = (DIV_CLASS, NOT_WHEN_CLASS)


def normalised(question: str) -> str:
    """Lower case, words only: two questions that differ only in case or punctuation are the same question."""
    return " ".join(re.findall(r"\w+", question.lower()))


@dataclass(frozen=True)
class TrailingDivs:
    """What the divs ending a clause hold (``()`` for a div the clause does not have)."""

    questions: tuple[str, ...] = ()
    not_when: tuple[str, ...] = ()


def split_questions(
    body: list[str], first_line: int, clause_id: str, report: Callable[[int, str], None]
) -> tuple[list[str], TrailingDivs]:
    """``(body lines without the divs, what the divs hold)`` of one clause.

    The clause may end with a ``::: questions`` div, a ``::: not_when`` div, or
    both (in either order, each once). ``first_line`` is the file line number of
    ``body[0]``; ``report(line, message)`` records a problem (an unterminated,
    empty or misplaced div, a line in it that is not a list item, an unknown or
    repeated div class).
    """
    in_code = False
    for offset, line in enumerate(body):
        if _CODE_FENCE.match(line):
            in_code = not in_code  # a ``:::`` inside a code block is an example, not a div
            continue
        opened = None if in_code else _OPEN.match(line)
        if opened is None:
            continue
        return body[:offset], _read_divs(body[offset:], first_line + offset, clause_id, report)
    return body, TrailingDivs()


def _read_divs(lines: list[str], first_line: int, clause_id: str, report: Callable[[int, str], None]) -> TrailingDivs:
    """The divs from ``lines[0]`` (an opening line) to the end of the clause."""
    found: dict[str, tuple[str, ...]] = {}
    offset = 0
    closed_at = first_line  # the line that closed the last div: where text after it is reported
    while offset < len(lines):
        line = lines[offset]
        lineno = first_line + offset
        if not line.strip():
            offset += 1
            continue
        opened = _OPEN.match(line)
        if opened is None:
            div = " and ".join(f"{name} div" for name in found) or "questions div"
            report(closed_at, f"clause {clause_id!r}: text after the {div} (the div must end the clause)")
            break
        name = opened.group(1) or opened.group(2)
        if name not in DIV_CLASSES:
            known = " and ".join(f"'::: {c}'" for c in DIV_CLASSES)
            report(lineno, f"clause {clause_id!r}: unknown fenced div {name!r} (the only ones are {known})")
            break
        items, length = _read_div(lines[offset + 1:], lineno, clause_id, name, report)
        if name in found:
            report(lineno, f"clause {clause_id!r}: a second {name} div (write all its items in one)")
        else:
            found[name] = items
        if length is None:  # never closed: the rest of the clause was read as its items
            break
        closed_at = lineno + length + 1
        offset += length + 2
    return TrailingDivs(questions=found.get(DIV_CLASS, ()), not_when=found.get(NOT_WHEN_CLASS, ()))


def _read_div(lines: list[str], open_line: int, clause_id: str, name: str,
              report: Callable[[int, str], None]) -> tuple[tuple[str, ...], Optional[int]]:
    """``(items, index of the closing line in lines or None when the div is never closed)``."""
    items: list[str] = []
    for offset, line in enumerate(lines):
        lineno = open_line + 1 + offset
        if _CLOSE.match(line):
            if not items:
                report(open_line, f"clause {clause_id!r}: the {name} div is empty (list them as '- ...' items)")
            return tuple(items), offset
        if not line.strip():
            continue
        item = _ITEM.match(line)
        if item is None:
            report(lineno, f"clause {clause_id!r}: {line.strip()!r} in the {name} div is not a '- ' item")
            continue
        items.append(item.group(1))
    report(open_line, f"clause {clause_id!r}: the {name} div is never closed (end it with a ':::' line)")
    return tuple(items), None


def embed_questions(embedder, clauses: Sequence[Anchored], field: str = "questions") -> list[np.ndarray]:
    """Per clause, its questions' (or, with ``field="not_when"``, its cues') vectors, one row each,
    embedded in one batch as queries: a question is compared with a customer's question, so both
    sides get E5's query form."""
    items = [getattr(clause, field) for clause in clauses]
    flat = [q for clause_items in items for q in clause_items]
    vectors = embedder.embed(flat, kind="query") if flat else np.zeros((0, 0), np.float32)
    split, start = [], 0
    for clause_items in items:
        split.append(np.asarray(vectors[start:start + len(clause_items)], dtype=np.float32))
        start += len(clause_items)
    return split
