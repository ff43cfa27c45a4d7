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
"""

from __future__ import annotations

import re
from typing import Callable, Protocol, Sequence

import numpy as np


class Anchored(Protocol):
    """What embedding questions needs of a clause (clauses.py imports this module, not the reverse)."""

    questions: tuple[str, ...]

_OPEN = re.compile(r"^\s*:{3,}\s*(?:\{\s*\.?([\w-]+)\s*\}|([\w-]+))\s*$")
_CLOSE = re.compile(r"^\s*:{3,}\s*$")
_ITEM = re.compile(r"^\s*[-*+]\s+(.*\S)\s*$")
_CODE_FENCE = re.compile(r"^\s*(```|~~~)")
DIV_CLASS = "questions"


def split_questions(
    body: list[str], first_line: int, clause_id: str, report: Callable[[int, str], None]
) -> tuple[list[str], tuple[str, ...]]:
    """``(body lines without the div, questions)`` of one clause.

    ``first_line`` is the file line number of ``body[0]``; ``report(line,
    message)`` records a problem (an unterminated, empty or misplaced div, a
    line in it that is not a list item, an unknown div class).
    """
    in_code = False
    for offset, line in enumerate(body):
        if _CODE_FENCE.match(line):
            in_code = not in_code  # a ``:::`` inside a code block is an example, not a div
            continue
        opened = None if in_code else _OPEN.match(line)
        if opened is None:
            continue
        lineno = first_line + offset
        name = opened.group(1) or opened.group(2)
        if name != DIV_CLASS:
            report(lineno, f"clause {clause_id!r}: unknown fenced div {name!r} (the only one is '::: {DIV_CLASS}')")
            return body, ()
        return body[:offset], _read_div(body[offset + 1:], lineno, clause_id, report)
    return body, ()


def _read_div(lines: list[str], open_line: int, clause_id: str, report: Callable[[int, str], None]) -> tuple[str, ...]:
    questions: list[str] = []
    for offset, line in enumerate(lines):
        lineno = open_line + 1 + offset
        if _CLOSE.match(line):
            if any(rest.strip() for rest in lines[offset + 1:]):
                report(lineno, f"clause {clause_id!r}: text after the questions div (the div must end the clause)")
            if not questions:
                report(open_line, f"clause {clause_id!r}: the questions div is empty (list questions as '- ...' items)")
            return tuple(questions)
        if not line.strip():
            continue
        item = _ITEM.match(line)
        if item is None:
            report(lineno, f"clause {clause_id!r}: {line.strip()!r} in the questions div is not a '- question' item")
            continue
        questions.append(item.group(1))
    report(open_line, f"clause {clause_id!r}: the questions div is never closed (end it with a ':::' line)")
    return tuple(questions)


def embed_questions(embedder, clauses: Sequence[Anchored]) -> list[np.ndarray]:
    """Per clause, its questions' vectors (one row each), embedded in one batch as queries:
    a question is compared with a customer's question, so both sides get E5's query form."""
    flat = [q for clause in clauses for q in clause.questions]
    vectors = embedder.embed(flat, kind="query") if flat else np.zeros((0, 0), np.float32)
    split, start = [], 0
    for clause in clauses:
        split.append(np.asarray(vectors[start:start + len(clause.questions)], dtype=np.float32))
        start += len(clause.questions)
    return split
