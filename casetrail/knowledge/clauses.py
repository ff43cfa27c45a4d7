"""The knowledge base's Markdown clause format, its parser and its validator.

A knowledge base is a folder per locale of Markdown files. Every ``##``
heading opens one clause; the clause id is a Pandoc-style attribute on the
heading and is the stable name drafts cite (``refunds.window@3+a1b2c3``)::

    ---
    category: refund_policy            # optional front matter (YAML)
    ---
    # Returns and refunds              # H1: a section title, not a clause

    ## Refund window {#refunds.window effective_from=2026-01-01}
    You can return an item within 30 days of delivery for a full refund.
    See also [how refunds are paid](#refunds.method).

    ## Store credit {#refunds.store_credit alternative=credit}
    Instead of a refund, you can choose store credit for the item price plus 10%.

    ::: questions
    - can I get a voucher instead of my money back
    - store credit instead of refund?
    :::

Heading attributes: ``#id`` (required), ``effective_from=YYYY-MM-DD`` and
``effective_until=YYYY-MM-DD`` (optional, until is exclusive),
``alternative=credit|exchange|...`` (marks an alternative to a refund that the
drafter offers), ``category=<taxonomy id>`` (overrides the file's category).
A cross-reference is a Markdown link to ``#<clause id>``.

A clause may end with a ``::: questions`` fenced div (Pandoc syntax): the
questions customers ask that the clause answers, one ``- `` item each, in the
clause's locale (``casetrail.knowledge.questions``). Retrieval is anchored on
them; they are not part of the citable text (``Clause.text``), but they are
part of the content hash, so editing them publishes a new version. A
``::: not_when`` div (same form) lists requests the clause does not answer
though it reads close to them; retrieval demotes it for those
(``casetrail.knowledge.not_when``).

The validator refuses the whole knowledge base, naming file and line, for:
a clause heading without an id, an invalid or duplicate id, an empty clause,
a broken cross-reference, a malformed date or attribute, an unreadable file,
an anchoring question that another clause of the locale already has,
a questions or not_when div that is unterminated, empty, repeated, not at the
end of its clause or holds anything but list items.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Iterable, Optional

import yaml

from casetrail.knowledge.questions import normalised, split_questions

CLAUSE_ID = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$")
_ATTRS = re.compile(r"\{([^{}]*)\}\s*$")
_REFERENCE = re.compile(r"\]\(#([^)\s]+)\)")
_LINK = re.compile(r"\[([^\]]+)\]\(#[^)\s]+\)")
KNOWN_ATTRIBUTES = ("effective_from", "effective_until", "alternative", "category")


class KnowledgeBaseError(ValueError):
    """The knowledge base is refused; ``problems`` lists every ``file:line: message``."""

    def __init__(self, problems: list["Problem"]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"knowledge base refused ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}")


@dataclasses.dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclasses.dataclass(frozen=True)
class Clause:
    """One citable clause of one knowledge-base version."""

    clause_id: str
    title: str
    text: str  # Markdown body, without the heading and without the questions div: what is cited
    locale: str
    section: str = ""  # the H1 above it
    category: Optional[str] = None
    alternative: Optional[str] = None
    effective_from: Optional[dt.date] = None
    effective_until: Optional[dt.date] = None
    references: tuple[str, ...] = ()
    source_file: str = ""
    line: int = 0
    kb_version: str = ""  # set once the clause belongs to a published version
    questions: tuple[str, ...] = ()  # customer questions it answers (retrieval anchors, never cited)
    not_when: tuple[str, ...] = ()  # requests it does not answer though it reads close (never cited)

    @property
    def plain_text(self) -> str:
        """The body with Markdown links reduced to their text: what a reply quotes."""
        text = _LINK.sub(r"\1", self.text)
        text = re.sub(r"[*_`]{1,2}([^*_`]+)[*_`]{1,2}", r"\1", text)
        return re.sub(r"\s+", " ", text).strip()

    @property
    def passage(self) -> str:
        """What is embedded for retrieval: section, title and body."""
        head = f"{self.section}: {self.title}" if self.section else self.title
        return f"{head}. {self.plain_text}"

    def in_effect(self, on: dt.date) -> bool:
        if self.effective_from and on < self.effective_from:
            return False
        if self.effective_until and on >= self.effective_until:
            return False
        return True

    def content_record(self) -> dict:
        """The fields that define the clause's content (hashed into the KB version)."""
        record = {
            "clause_id": self.clause_id,
            "title": self.title,
            "text": self.text,
            "section": self.section,
            "category": self.category,
            "alternative": self.alternative,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_until": self.effective_until.isoformat() if self.effective_until else None,
        }
        if self.questions:  # only when present, so a KB without questions keeps the hash it always had
            record["questions"] = list(self.questions)
        if self.not_when:  # likewise: a KB without not_when cues keeps its hash
            record["not_when"] = list(self.not_when)
        return record


@dataclasses.dataclass(frozen=True)
class LocaleKnowledgeBase:
    """Every clause of one tenant and locale, parsed and validated."""

    tenant: str
    locale: str
    clauses: tuple[Clause, ...]

    @property
    def content_hash(self) -> str:
        records = sorted((c.content_record() for c in self.clauses), key=lambda r: r["clause_id"])
        payload = json.dumps({"locale": self.locale, "clauses": records}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]

    def by_id(self) -> dict[str, Clause]:
        return {c.clause_id: c for c in self.clauses}


def _split_front_matter(lines: list[str], file: str, problems: list[Problem]) -> tuple[dict, int]:
    """Front matter between ``---`` lines; returns (mapping, index of the first body line)."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            try:
                meta = yaml.safe_load("\n".join(lines[1:end])) or {}
            except yaml.YAMLError as exc:
                problems.append(Problem(file, 1, f"front matter is not valid YAML: {exc}"))
                return {}, end + 1
            if not isinstance(meta, dict):
                problems.append(Problem(file, 1, "front matter must be a mapping"))
                return {}, end + 1
            return meta, end + 1
    problems.append(Problem(file, 1, "front matter opened with '---' is never closed"))
    return {}, len(lines)


def _parse_date(value: str, file: str, line: int, key: str, problems: list[Problem]) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(Problem(file, line, f"{key}={value!r} is not a date (YYYY-MM-DD)"))
        return None


Reference = tuple[str, int, str, str]  # (file, line, from clause id, referenced id)


def parse_file(
    path: Path, locale: str, problems: list[Problem], display: Optional[str] = None
) -> tuple[list[Clause], list[Reference]]:
    """Clauses and cross-references of one Markdown file; problems are appended, never raised here.

    References are returned rather than checked: they may point into another file.
    """
    from markdown_it import MarkdownIt

    file = display or str(path)
    try:
        source = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(file, 0, f"cannot read: {exc}"))
        return [], []
    lines = source.splitlines()
    meta, body_start = _split_front_matter(lines, file, problems)
    file_category = meta.get("category")
    # Blank the front matter so markdown-it's line numbers stay the file's.
    masked = "\n".join([""] * body_start + lines[body_start:])
    headings = [
        (int(t.tag[1]), t.map[0])
        for t in MarkdownIt("commonmark").parse(masked)
        if t.type == "heading_open" and t.map is not None
    ]
    clauses: list[Clause] = []
    found_references: list[Reference] = []
    section = ""
    for index, (level, start) in enumerate(headings):
        heading = lines[start].strip().lstrip("#").strip()
        lineno = start + 1
        if level == 1:
            section = heading
            continue
        if level > 2:
            continue  # a ### sub-heading stays part of its clause's body
        # ``level == 2`` opens a clause; its body runs to the next heading of level <= 2.
        stop = next((later for lvl, later in headings[index + 1:] if lvl <= 2), len(lines))
        attrs_match = _ATTRS.search(heading)
        if not attrs_match:
            problems.append(Problem(file, lineno, f"clause heading {heading!r} has no id (add {{#topic.name}})"))
            continue
        title = heading[: attrs_match.start()].strip()
        clause_id: Optional[str] = None
        attrs: dict[str, str] = {}
        for token in attrs_match.group(1).split():
            if token.startswith("#"):
                clause_id = token[1:]
            elif "=" in token:
                key, value = token.split("=", 1)
                if key not in KNOWN_ATTRIBUTES:
                    problems.append(Problem(file, lineno, f"unknown attribute {key!r}; known: {', '.join(KNOWN_ATTRIBUTES)}"))
                attrs[key] = value
            else:
                problems.append(Problem(file, lineno, f"malformed attribute {token!r} (use #id or key=value)"))
        if not clause_id:
            problems.append(Problem(file, lineno, f"clause heading {heading!r} has no id (add {{#topic.name}})"))
            continue
        if not CLAUSE_ID.match(clause_id):
            problems.append(Problem(file, lineno, f"clause id {clause_id!r} is invalid: lowercase dotted words like 'refunds.window'"))
            continue
        if not title:
            problems.append(Problem(file, lineno, f"clause {clause_id!r} has no title"))
        body_lines, divs = split_questions(
            lines[start + 1:stop], start + 2, clause_id, lambda line, message: problems.append(Problem(file, line, message))
        )
        body = "\n".join(body_lines).strip()
        if not body:
            problems.append(Problem(file, lineno, f"clause {clause_id!r} is empty"))
            continue
        effective_from = _parse_date(attrs["effective_from"], file, lineno, "effective_from", problems) if "effective_from" in attrs else None
        effective_until = _parse_date(attrs["effective_until"], file, lineno, "effective_until", problems) if "effective_until" in attrs else None
        if effective_from and effective_until and effective_until <= effective_from:
            problems.append(Problem(file, lineno, f"clause {clause_id!r}: effective_until is not after effective_from"))
        references: list[str] = []
        for offset, text_line in enumerate(body_lines, start=start + 2):
            for ref in _REFERENCE.findall(text_line):
                references.append(ref)
                found_references.append((file, offset, clause_id, ref))
        clauses.append(
            Clause(
                clause_id=clause_id,
                title=title,
                text=body,
                locale=locale,
                section=section,
                category=attrs.get("category", file_category),
                alternative=attrs.get("alternative"),
                effective_from=effective_from,
                effective_until=effective_until,
                references=tuple(references),
                source_file=file,
                line=lineno,
                questions=divs.questions,
                not_when=divs.not_when,
            )
        )
    return clauses, found_references


def load_locale(directory: Path, tenant: str, locale: str, root: Optional[Path] = None) -> LocaleKnowledgeBase:
    """Parse and validate every ``*.md`` of one locale folder, or raise ``KnowledgeBaseError``."""
    directory = Path(directory)
    problems: list[Problem] = []
    references: list[Reference] = []
    files = sorted(directory.glob("*.md"))
    if not files:
        raise KnowledgeBaseError([Problem(str(directory), 0, "no Markdown (*.md) files")])
    clauses: list[Clause] = []
    seen: dict[str, Clause] = {}
    for path in files:
        display = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
        file_clauses, file_references = parse_file(path, locale, problems, display=display)
        references.extend(file_references)
        for clause in file_clauses:
            if clause.clause_id in seen:
                first = seen[clause.clause_id]
                problems.append(
                    Problem(clause.source_file, clause.line,
                            f"duplicate clause id {clause.clause_id!r} (first defined at {first.source_file}:{first.line})")
                )
                continue
            seen[clause.clause_id] = clause
            clauses.append(clause)
    # One question anchoring two clauses is a tie that retrieval breaks by accident (case and
    # punctuation ignored); the second clause to use it is refused.
    anchors: dict[str, Clause] = {}
    for clause in clauses:
        for question in dict.fromkeys(normalised(q) for q in clause.questions):
            first = anchors.setdefault(question, clause)
            if first is not clause:
                problems.append(Problem(clause.source_file, clause.line,
                                        f"clause {clause.clause_id!r}: question {question!r} already anchors "
                                        f"{first.clause_id!r} ({first.source_file}:{first.line})"))
    for file, line, clause_id, ref in references:
        if ref not in seen:
            problems.append(Problem(file, line, f"clause {clause_id!r} refers to unknown clause {ref!r}"))
    if not clauses and not problems:
        problems.append(Problem(str(directory), 0, "no clauses (## headings with {#id}) found"))
    if problems:
        raise KnowledgeBaseError(sorted(problems, key=lambda p: (p.file, p.line)))
    return LocaleKnowledgeBase(tenant=tenant, locale=locale, clauses=tuple(clauses))


def locale_folders(directory: Path) -> list[tuple[str, Path]]:
    """``(locale, folder)`` for each locale folder of a tenant's knowledge base.

    A locale folder is named by a language code (``en``, ``de``, ``pt-br``);
    other folders (``eval/``) are not part of the published knowledge base.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise KnowledgeBaseError([Problem(str(directory), 0, "not a directory")])
    found = [
        (p.name, p) for p in sorted(directory.iterdir())
        if p.is_dir() and re.fullmatch(r"[a-z]{2}(?:-[a-z]{2})?", p.name) and any(p.glob("*.md"))
    ]
    if not found:
        raise KnowledgeBaseError([Problem(str(directory), 0, "no locale folders (en/, de/, ...) with Markdown files")])
    return found


def load_tenant(directory: Path, tenant: Optional[str] = None, locales: Optional[Iterable[str]] = None) -> list[LocaleKnowledgeBase]:
    """Every locale of a tenant's knowledge base; all problems of all locales in one error."""
    directory = Path(directory)
    tenant = tenant or directory.resolve().name
    wanted = set(locales) if locales else None
    problems: list[Problem] = []
    kbs: list[LocaleKnowledgeBase] = []
    for locale, folder in locale_folders(directory):
        if wanted is not None and locale not in wanted:
            continue
        try:
            kbs.append(load_locale(folder, tenant, locale, root=directory.parent))
        except KnowledgeBaseError as exc:
            problems.extend(exc.problems)
    if problems:
        raise KnowledgeBaseError(problems)
    if not kbs:
        raise KnowledgeBaseError([Problem(str(directory), 0, f"none of the requested locales {sorted(wanted or [])} found")])
    return kbs
