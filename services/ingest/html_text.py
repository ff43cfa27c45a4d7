"""HTML to plain text for ticket bodies, with guards against HTML bombs.

lxml parses, quoted history (``blockquote``, Gmail/Outlook/Apple quote
containers) is dropped from the tree, and inscriptis renders the rest with its
block layout (paragraphs, line breaks, list bullets) intact.

An "HTML bomb" here is markup built to exhaust the parser or the renderer:
pathological nesting depth or an absurd element count. Both are measured with
a cheap scan *before* parsing and refused with ``html_bomb``.
"""

from __future__ import annotations

import re

import lxml.html
from inscriptis import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml import etree

from services.ingest.rejections import EMPTY_BODY, HTML_BOMB, Rejected

MAX_ELEMENTS = 20_000
MAX_DEPTH = 256  # libxml2's own default nesting limit

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
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


def looks_like_html(text: str) -> bool:
    return _HTML_HINT.search(text, 0, 4096) is not None


def check_markup(html: str) -> None:
    """Refuse markup whose size or nesting would make parsing itself the attack."""
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
    try:
        document = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        raise Rejected(EMPTY_BODY, "HTML body has no content") from None
    if drop_quotes:
        for element in _QUOTE_XPATH(document):
            if element.getparent() is not None:
                element.drop_tree()
    text = Inscriptis(document, _CONFIG).get_text()
    return tidy(text)


_BLANK_RUN = re.compile(r"\n[ \t\u00a0]*(?:\n[ \t\u00a0]*){2,}")
_TRAILING = re.compile(r"[ \t\u00a0]+\n")


def tidy(text: str) -> str:
    """Normalise line endings and whitespace runs without losing paragraph breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TRAILING.sub("\n", text)
    text = _BLANK_RUN.sub("\n\n", text)
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join(lines).strip()
