"""Safe conditions for tenant configuration: Google's Common Expression Language.

CEL is side-effect free, terminates, and has no access to Python objects, so a
tenant's routing rule or VIP criterion can never execute code (no ``eval``).
Each expression is compiled once at start-up and checked against the fields
the caller declares; an unknown field or a syntax error refuses the
configuration with the entry's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

import cel

_IDENTIFIER = re.compile(r"(?<![\w.'\"])([A-Za-z_][A-Za-z0-9_]*)(?:\s*\.\s*([A-Za-z_][A-Za-z0-9_]*))?")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_CEL_WORDS = {"true", "false", "null", "in", "size", "has", "int", "double", "string", "bool",
              "matches", "startsWith", "endsWith", "contains", "exists", "all", "timestamp", "duration"}


class ExpressionError(ValueError):
    """A condition that does not parse or names a field nobody provides."""


@dataclass(frozen=True)
class Condition:
    name: str  # the configuration entry, for error messages and the audit trail
    source: str
    _program: Any

    def evaluate(self, variables: dict[str, Any]) -> bool:
        try:
            result = self._program.execute(cel.Context(variables=variables))
        except Exception as exc:
            raise ExpressionError(f"{self.name}: evaluating {self.source!r} failed: {exc}") from exc
        if not isinstance(result, bool):
            raise ExpressionError(f"{self.name}: {self.source!r} gave {type(result).__name__}, expected a boolean")
        return result


def referenced_fields(source: str) -> set[str]:
    """Top-level identifiers (and ``a.b`` paths) an expression reads, ignoring strings."""
    stripped = _STRING.sub("''", source)
    names: set[str] = set()
    for match in _IDENTIFIER.finditer(stripped):
        head, attr = match.group(1), match.group(2)
        if head in _CEL_WORDS:
            continue
        names.add(f"{head}.{attr}" if attr else head)
    return names


def compile_condition(name: str, source: str, known_fields: Iterable[str]) -> Condition:
    """Compile ``source`` or raise ``ExpressionError`` naming the entry ``name``."""
    if not source or not source.strip():
        raise ExpressionError(f"{name}: empty condition")
    known = set(known_fields)
    for field in referenced_fields(source):
        root = field.split(".", 1)[0]
        # ``customer.*`` declares every attribute of a map-valued field.
        if field in known or root in known or f"{root}.*" in known:
            continue
        raise ExpressionError(f"{name}: unknown field {field!r} in {source!r}; known fields: {', '.join(sorted(known))}")
    try:
        program = cel.compile(source)
    except Exception as exc:
        raise ExpressionError(f"{name}: does not parse: {source!r}: {exc}") from exc
    return Condition(name=name, source=source, _program=program)
