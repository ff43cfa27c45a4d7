"""HTML to plain text for ticket bodies, with guards against HTML bombs.

lxml parses, quoted history (``blockquote``, Gmail/Outlook/Apple quote
containers) is dropped from the tree, and inscriptis renders the rest with its
block layout (paragraphs, line breaks, list bullets) intact.

Most ticket bodies are small fragments of paragraphs, divs, line breaks and
inline markup. For those, ``_render_simple`` walks the lxml tree itself with
inscriptis' own layout rules (the same CSS profile, block margins, whitespace
collapsing and entity handling; only the left padding is left out, which
``tidy`` strips anyway): the same text at a fraction of the cost. Any element
outside that subset (lists, tables, ``pre``, quote containers, ``style``/
``align`` attributes, head/script/style) sends the document down the full
inscriptis path, so the output never depends on which path ran.

An "HTML bomb" here is markup built to exhaust the parser or the renderer:
pathological nesting depth or an absurd element count. Both are measured with
a cheap scan *before* parsing and refused with ``html_bomb``. The scan is linear:
a tag candidate never runs past the next ``<`` (``"<p " + "<a " * n`` once made a
``[^>]*`` pattern rescan the rest of the text from every ``<``: quadratic).
"""

from __future__ import annotations

import re
from html import unescape

import lxml.html
from inscriptis import Inscriptis
from inscriptis.html_properties import Display, WhiteSpace
from inscriptis.model.config import ParserConfig
from inscriptis.model.html_element import DEFAULT_HTML_ELEMENT
from lxml import etree

from services.ingest import budget
from services.ingest.rejections import EMPTY_BODY, HTML_BOMB, Rejected

MAX_ELEMENTS = 20_000
MAX_DEPTH = 256  # libxml2's own default nesting limit

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^<>]*?(/?)>")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_HTML_HINT = re.compile(r"<(?:html|body|div|p|br|span|table|a|b|i|strong|em|ul|ol|li|blockquote|font|h[1-6])\b", re.IGNORECASE)
_QUOTE_XPATH = etree.XPath(
    "//blockquote"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]"
    " | //*[@id='appendonsend'] | //*[@id='divRplyFwdMsg'] | //*[@id='mail-editor-reference-message-container']"
    " | //*[@type='cite']"
    " | //head | //script | //style"
)
_CONFIG = ParserConfig(display_links=False, display_images=False)

# ----------------------------------------------------- fast path (simple markup)
# Tags with an inscriptis start/end handler other than <br> (tables, lists) and
# quoted-history containers always take the full path.
_FULL_PATH_TAGS = frozenset("table tr td th ul ol li blockquote".split())
# Attributes inscriptis interprets (style, align, valign) or that mark quoted
# history (type="cite"): present anywhere -> full path.
_FULL_PATH_ATTRIBUTES = frozenset(("style", "align", "valign", "type"))
_QUOTE_IDS = frozenset(("appendonsend", "divRplyFwdMsg", "mail-editor-reference-message-container"))


class _FullPath(Exception):
    """The document uses something the fast renderer does not reproduce."""


class _Style:
    __slots__ = ("block", "margin_before", "margin_after", "prefix", "suffix")

    def __init__(self, block: bool, margin_before: int, margin_after: int, prefix: str, suffix: str):
        self.block = block
        self.margin_before = margin_before
        self.margin_after = margin_after
        self.prefix = prefix
        self.suffix = suffix


def _style_of(element) -> "_Style | None":
    """The inscriptis CSS of a tag as a ``_Style``; None where only the full path is exact."""
    if (element.display not in (Display.inline, Display.block) or element.whitespace != WhiteSpace.normal
            or element.list_bullet or element.annotation):
        return None
    return _Style(element.display == Display.block, element.margin_before, element.margin_after,
                  element.prefix, element.suffix)


_BODY_STYLE = _style_of(_CONFIG.css["body"])
_DEFAULT_STYLE = _style_of(DEFAULT_HTML_ELEMENT)
_STYLES = {tag: _style_of(element) for tag, element in _CONFIG.css.items()}


_WHITESPACE_RUN = re.compile(r"\s+")


class _SimpleCanvas:
    """inscriptis' Canvas and Block for ``white-space: normal`` text, without prefixes and annotations."""

    __slots__ = ("blocks", "content", "collapsable", "margin")

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.content = ""
        self.collapsable = True
        self.margin = 1000

    def merge(self, text: str) -> None:  # Block.merge_normal_text
        # inscriptis walks the text a character at a time: each whitespace run
        # becomes one space, dropped where the block is still "collapsable" (at
        # its start or after a space). ``\s`` is ``str.isspace`` for str patterns.
        normalized = _WHITESPACE_RUN.sub(" ", text)
        if not normalized:
            return
        if self.collapsable and normalized[0] == " ":
            normalized = normalized[1:]
            if not normalized:
                return
        self.collapsable = normalized[-1] == " "
        self.content += unescape(normalized)

    def flush(self) -> bool:  # Canvas.flush_inline
        if self.collapsable and self.content.endswith(" "):
            self.content = self.content[:-1]
        if self.content:
            self.blocks.append(self.content)
            self.content = ""
            self.collapsable = True
            self.margin = 0
            return True
        return False

    def newline(self) -> None:  # Canvas.write_newline (<br>)
        if not self.flush():
            self.blocks.append("")
            self.content = ""
            self.collapsable = True

    def open_block(self, style: _Style, previous_margin_after: int) -> None:
        self.flush()
        required = max(previous_margin_after, style.margin_before)
        if required > self.margin:
            self.blocks.append("\n" * (required - self.margin - 1))
            self.margin = required

    def close_block(self, style: _Style) -> None:
        self.flush()
        if style.margin_after > self.margin:
            self.blocks.append("\n" * (style.margin_after - self.margin - 1))
            self.margin = style.margin_after

    def text(self) -> str:
        self.flush()
        return "\n".join(self.blocks)


def _write(canvas: _SimpleCanvas, style: _Style, text: "str | None") -> None:  # HtmlElement.write
    if text:
        canvas.merge(style.prefix + text + style.suffix if style.prefix or style.suffix else text)


def _walk(canvas: _SimpleCanvas, node, parent: _Style) -> None:
    tag = node.tag
    if not isinstance(tag, str):
        if tag is etree.Comment:
            if node.tail:
                canvas.merge(node.tail)  # inscriptis writes a comment's tail without affixes
            return
        raise _FullPath  # processing instructions, entities
    if tag in _FULL_PATH_TAGS:
        raise _FullPath
    style = _STYLES.get(tag, _DEFAULT_STYLE)
    if style is None:  # display:none, pre, list items, ...
        raise _FullPath
    if node.attrib:
        for name, value in node.items():
            if name in _FULL_PATH_ATTRIBUTES or (name == "id" and value in _QUOTE_IDS):
                raise _FullPath
            if name == "class" and ("gmail_quote" in value or "yahoo_quoted" in value):
                raise _FullPath
    if tag == "br":
        canvas.newline()
    if style.block:
        canvas.open_block(style, parent.margin_after if parent.block else 0)
    _write(canvas, style, node.text)
    for child in node:
        _walk(canvas, child, style)
    if style.block:
        canvas.close_block(style)
    _write(canvas, parent, node.tail)


def _render_simple(document) -> str:
    """The text inscriptis would render (before ``tidy``); raises ``_FullPath`` outside the simple subset."""
    canvas = _SimpleCanvas()
    _walk(canvas, document, _BODY_STYLE)
    return canvas.text()


def _drop_quotes(document, elements=None) -> None:
    """Remove quoted history (and head/script/style) from the tree, keeping the tails.

    ``elements``: what ``_QUOTE_XPATH`` already found in ``document``, if the caller asked.
    """
    for element in _QUOTE_XPATH(document) if elements is None else elements:
        if element.getparent() is not None:
            element.drop_tree()


def _render_full(document, drop_quotes: bool) -> str:
    if drop_quotes:
        _drop_quotes(document)
    return Inscriptis(document, _CONFIG).get_text()


def looks_like_html(text: str) -> bool:
    return _HTML_HINT.search(text, 0, 4096) is not None


def check_markup(html: str) -> None:
    """Refuse markup whose size or nesting would make parsing itself the attack."""
    if html.count("<") <= min(MAX_DEPTH, MAX_ELEMENTS):
        return  # every tag starts with "<": too few tags to nest deeper than MAX_DEPTH or to exceed MAX_ELEMENTS
    _scan_markup(html)


def _scan_markup(html: str) -> None:
    depth = max_depth = count = 0
    for m in _TAG.finditer(html):
        count += 1
        if count > MAX_ELEMENTS:
            raise Rejected(HTML_BOMB, f"HTML has more than {MAX_ELEMENTS} tags")
        closing, name, self_closing = m.group(1), m.group(2).lower(), m.group(3)
        if name in _VOID or self_closing:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            if depth > max_depth:
                max_depth = depth
                if max_depth > MAX_DEPTH:
                    raise Rejected(HTML_BOMB, f"HTML nests deeper than {MAX_DEPTH} elements")


def html_to_text(html: str, *, drop_quotes: bool = True) -> str:
    """Visible text of an HTML body, quoted history removed; raises ``Rejected``."""
    check_markup(html)
    # Characters XML cannot hold (C0 controls, lone surrogates): lxml refuses to write them
    # back into the tree (dropping a quote moves its tail text), and they are invisible anyway.
    html = _XML_INCOMPATIBLE.sub("", html)
    try:
        document = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        raise Rejected(EMPTY_BODY, "HTML body has no content") from None
    budget.check("HTML parsing")
    try:
        text = _render_simple(document)
    except _FullPath:
        text = None
        quotes = _QUOTE_XPATH(document) if drop_quotes else []
        if quotes:
            # A reply's quoted history (or a <head>) is often all that kept it off the
            # fast path: drop it as the full path would, then try the fast path again
            # on what is left - both render the same tree to the same text.
            _drop_quotes(document, quotes)
            try:
                text = _render_simple(document)
            except _FullPath:
                pass
        if text is None:
            text = _render_full(document, drop_quotes=False)
    return tidy(text)


_XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BLANK_RUN = re.compile(r"\n[ \t\u00a0]*(?:\n[ \t\u00a0]*){2,}")
_TRAILING = re.compile(r"[ \t\u00a0]+\n")


def tidy(text: str) -> str:
    """Normalise line endings and whitespace runs without losing paragraph breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TRAILING.sub("\n", text)
    text = _BLANK_RUN.sub("\n\n", text)
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join(lines).strip()
