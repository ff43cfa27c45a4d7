"""Reply templates as versions: the framing the offline composer writes around cited clauses.

The built-in set (``BUILTIN``, the strings of ``messages``) is what the drafter
serves until the gate promotes a tenant's own set (``casetrail gate --kind
template --candidate NAME --source FILE``). A template file is YAML that
overrides any of the built-in tables, per locale::

    closing:
      en: "Reply to this e-mail if anything is still open."
    openers:
      en:
        order_status: "Thanks for checking in on your order{about}."

Everything not named keeps the built-in text, so a candidate changes exactly
the lines it shows. A file is refused (``TemplateFileError``, naming the line)
when a line is empty, uses a placeholder other than ``{about}`` (openers) or
``{order}`` (the order reference), or makes a claim by the verifier's own
definition (``casetrail.grounding.claims``): every factual statement in a reply
comes from a cited clause, never from framing. Whether a disclosure still says
it is AI is the verifier's check; the gate counts a template that fails it as
an error on every draft.
"""

from __future__ import annotations

import dataclasses
import re
import string
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Optional

from services.drafter import messages

TABLES = ("greeting", "closing", "disclosure", "alternatives_intro", "holding", "about_order")
_SPACE = re.compile(r"\s+")
#: fixed framing fragments shorter than this are not wording an agent can object to ("Hello,")
MIN_FRAGMENT = 12


class TemplateFileError(ValueError):
    """A template file that cannot be served (unreadable, unknown table, a claim, a bad placeholder)."""


@dataclasses.dataclass(frozen=True)
class ReplyTemplates:
    version: str
    greeting: Mapping[str, str]
    closing: Mapping[str, str]
    disclosure: Mapping[str, str]
    alternatives_intro: Mapping[str, str]
    holding: Mapping[str, str]
    about_order: Mapping[str, str]
    openers: Mapping[str, Mapping[str, str]]  # locale -> intent (or "_default") -> line with {about}

    def text(self, table: str, locale: str) -> str:
        """The locale's line of ``table``, English when the locale has none (never empty)."""
        lines: Mapping[str, str] = getattr(self, table)
        return lines.get(locale) or lines["en"]

    def opener(self, locale: str, intent: str, order: Optional[str]) -> str:
        openers = self.openers.get(locale) or self.openers["en"]
        line = openers.get(intent) or openers["_default"]
        about = self.text("about_order", locale).format(order=order) if order else ""
        return line.format(about=about)

    def holding_reply(self, locale: str) -> str:
        return f"{self.text('holding', locale)}\n\n-- {self.text('disclosure', locale)}"

    def objectionable_fragments(self, locale: str) -> list[str]:
        """The fixed wording of this set's openers, closing and alternatives lead-in in ``locale``: what an
        agent's ``tone`` rejection can be about. The greeting is one word and the AI disclosure is required
        wording, so neither counts; an opener is cut at its ``{about}`` (the order reference varies)."""
        lines = [self.text("closing", locale), self.text("alternatives_intro", locale)]
        lines += list((self.openers.get(locale) or self.openers["en"]).values())
        fragments = {_normalised(part) for line in lines for part in line.split("{about}")}
        return sorted(f for f in fragments if len(f) >= MIN_FRAGMENT)


def _normalised(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def repeats_rejected_wording(templates: ReplyTemplates, locale: str, draft: Optional[str],
                             rejected_draft: Optional[str]) -> bool:
    """Whether ``draft`` (written with ``templates``) says again a framing line of a draft an agent rejected."""
    if not draft or not rejected_draft:
        return False
    draft_text, rejected_text = _normalised(draft), _normalised(rejected_draft)
    return any(f in draft_text and f in rejected_text for f in templates.objectionable_fragments(locale))


BUILTIN = ReplyTemplates(
    version=messages.TEMPLATE_VERSION, greeting=MappingProxyType(messages.GREETING),
    closing=MappingProxyType(messages.CLOSING), disclosure=MappingProxyType(messages.DISCLOSURE),
    alternatives_intro=MappingProxyType(messages.ALTERNATIVES_INTRO), holding=MappingProxyType(messages.HOLDING),
    about_order=MappingProxyType(messages.ABOUT_ORDER),
    openers=MappingProxyType({locale: MappingProxyType(lines) for locale, lines in messages.OPENERS.items()}),
)


def _placeholders(line: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(line) if name is not None}


def problems(templates: ReplyTemplates) -> list[str]:
    """What makes ``templates`` unservable, each naming its line (empty: servable)."""
    from casetrail.grounding.claims import is_factual
    from casetrail.grounding.sentences import split_sentences

    found: list[str] = []

    def check(where: str, line: str, allowed: set[str], locale: str, example: dict) -> None:
        if not isinstance(line, str) or not line.strip():
            found.append(f"{where}: empty")
            return
        try:
            extra = _placeholders(line) - allowed
        except ValueError as exc:
            found.append(f"{where}: {exc}")
            return
        if extra:
            found.append(f"{where}: placeholder {{{sorted(extra)[0]}}} (allowed: {sorted(allowed) or 'none'})")
            return
        for sentence in split_sentences(line.format(**example)):
            if is_factual(sentence, locale):
                found.append(f"{where}: states a fact or policy term ({sentence.plain!r}); facts come from clauses")

    for table in TABLES:
        for locale, line in getattr(templates, table).items():
            allowed = {"order"} if table == "about_order" else set()
            check(f"{table}.{locale}", line, allowed, locale, {"order": "ORDER"} if allowed else {})
    for locale, lines in templates.openers.items():
        if "_default" not in lines:
            found.append(f"openers.{locale}: no _default line")
        for intent, line in lines.items():
            check(f"openers.{locale}.{intent}", line, {"about"}, locale, {"about": ""})
    return found


def load_templates(path: Path, version: str) -> ReplyTemplates:
    """The built-in set with the file's lines over it, served as ``version``; ``TemplateFileError`` otherwise.
    ``path`` is a YAML file, or a folder holding ``templates.yaml``."""
    import yaml

    path = Path(path)
    file = path / "templates.yaml" if path.is_dir() else path
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateFileError(f"template file {file}: unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise TemplateFileError(f"template file {file}: not a mapping of tables")
    unknown = sorted(set(data) - set(TABLES) - {"openers"})
    if unknown:
        raise TemplateFileError(f"template file {file}: unknown table {unknown[0]!r} (known: {', '.join(TABLES)}, openers)")
    tables: dict = {}
    for table in TABLES:
        overrides = data.get(table) or {}
        if not isinstance(overrides, dict):
            raise TemplateFileError(f"template file {file}: {table} must map locales to lines")
        tables[table] = MappingProxyType({**getattr(BUILTIN, table), **overrides})
    opener_overrides = data.get("openers") or {}
    if not isinstance(opener_overrides, dict) or not all(isinstance(v, dict) for v in opener_overrides.values()):
        raise TemplateFileError(f"template file {file}: openers must map locales to intents to lines")
    openers = {locale: MappingProxyType({**BUILTIN.openers.get(locale, {}), **opener_overrides.get(locale, {})})
               for locale in set(BUILTIN.openers) | set(opener_overrides)}
    templates = ReplyTemplates(version=version, openers=MappingProxyType(openers), **tables)
    found = problems(templates)
    if found:
        raise TemplateFileError(f"template file {file}: " + "; ".join(found))
    return templates
