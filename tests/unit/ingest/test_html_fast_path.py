"""The simple-markup renderer gives exactly the text of the full lxml + inscriptis path."""

import random

import lxml.html
import pytest

from services.ingest import html_text
from services.ingest.rejections import Rejected

TAGS = ["p", "div", "br", "b", "strong", "i", "em", "span", "a", "font", "u", "h1", "h3", "P", "DIV", "o:p", "center",
        "small", "img", "q", "section"]
OTHER_TAGS = ["ul", "li", "table", "td", "blockquote", "pre", "head", "title", "style", "script"]
TEXT = ["", " ", "  ", "\n", "\t", "\xa0", "&nbsp;", "&amp;", "&lt;", "&#10;", "&amp;nbsp;", "&amp;lt;b&amp;gt;", "&#32;",
        "&eacute;", "&amp", " \n ", "&#160;", "\u2003", "\r\n"]
WORDS = ["Hello", "Žydrūnė", "olá", "x", "a.b", "—", "Merci", "123", "&", ";", "<3", "é"]
ATTRIBUTES = ['', '', '', ' dir="ltr"', ' class="x"', ' class="gmail_quote"', ' id="appendonsend"',
              ' style="display:none"', ' align="center"', ' type="cite"', ' href="http://x"', ' lang="fr"']


def fragment(rng: random.Random, depth: int = 0) -> str:
    out = []
    for _ in range(rng.randint(0, 5 if depth < 3 else 2)):
        r = rng.random()
        if r < 0.35:
            out.append(rng.choice(TEXT) + rng.choice(WORDS) + rng.choice(TEXT))
        elif r < 0.45:
            out.append(rng.choice(["<br>", "<br/>", "<BR>", "<br />"]))
        elif r < 0.5:
            out.append("<!-- c -->" + rng.choice(TEXT))
        elif r < 0.53:
            out.append(rng.choice(["</p>", "</div>", "<p>", "<div>", "</b>"]))  # stray and unclosed tags
        else:
            tag = rng.choice(TAGS) if rng.random() < 0.9 else rng.choice(OTHER_TAGS)
            attribute = rng.choice(ATTRIBUTES) if rng.random() < 0.3 else ""
            close = f"</{tag}>" if rng.random() < 0.9 else ""
            out.append(f"<{tag}{attribute}>{fragment(rng, depth + 1)}{close}")
    return "".join(out)


def full_path(html: str) -> str:
    html_text.check_markup(html)
    return html_text.tidy(html_text._render_full(lxml.html.document_fromstring(html), True))


def test_fast_path_equals_full_path_on_random_markup():
    rng = random.Random(2)
    fast = 0
    for _ in range(3000):
        html = fragment(rng)
        try:
            expected = full_path(html)
        except (Rejected, lxml.etree.ParserError, ValueError):
            continue
        try:
            simple = html_text._render_simple(lxml.html.document_fromstring(html))
        except html_text._FullPath:
            continue
        fast += 1
        assert html_text.tidy(simple) == expected, html
        assert html_text.html_to_text(html) == expected, html
    assert fast > 1000


@pytest.mark.parametrize("html", [
    "<p>Hola, me han cobrado dos veces el pedido <b>ES-88231</b>.</p><p>Mi tarjeta termina en 4242.</p>",
    "<div>Sveiki,<br>gavau sugadintą prekę.<br>Pagarbiai,<br>Žydrūnė</div>",
    "<div><div>x</div>\n  <p>y</p></div><span>a</span><span>b</span>",
])
def test_simple_fragments_take_the_fast_path(html):
    text = html_text._render_simple(lxml.html.document_fromstring(html))
    assert html_text.tidy(text) == full_path(html)


@pytest.mark.parametrize("html", [
    "<div>new</div><blockquote>old</blockquote>",
    '<div>new</div><div class="gmail_quote">old</div>',
    '<p style="display:none">hidden</p><p>shown</p>',
    "<ul><li>a</li></ul>",
    "<html><head><title>t</title></head><body><p>x</p></body></html>",
])
def test_quotes_lists_and_styles_take_the_full_path(html):
    with pytest.raises(html_text._FullPath):
        html_text._render_simple(lxml.html.document_fromstring(html))
    assert html_text.html_to_text(html) == full_path(html)


def test_replies_with_quotes_dropped_equal_the_full_path():
    # Quoted history sends a document off the fast path; once dropped, what is left may
    # take it. Either way html_to_text must give what lxml + inscriptis give.
    rng = random.Random(4)
    quotes = ['<blockquote type="cite">{}</blockquote>', '<div class="gmail_quote">{}</div>', '<div id="appendonsend">{}</div>',
              '<div class="yahoo_quoted">{}</div>', "<head><title>{}</title><style>p {{}}</style></head>", "<script>{}</script>"]
    retried = 0
    for _ in range(3000):
        parts = [fragment(rng) for _ in range(rng.randint(1, 3))]
        for _ in range(rng.randint(1, 2)):
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(quotes).format(fragment(rng)) + rng.choice(TEXT + WORDS))
        html = "".join(parts)
        try:
            expected = full_path(html)
        except (Rejected, lxml.etree.ParserError, ValueError):
            continue
        document = lxml.html.document_fromstring(html)
        try:
            html_text._render_simple(document)
        except html_text._FullPath:
            html_text._drop_quotes(document)
            try:
                html_text._render_simple(document)
                retried += 1
            except html_text._FullPath:
                pass
        assert html_text.html_to_text(html) == expected, html
    assert retried > 500  # the retry does take the fast path


def test_markup_check_shortcut_refuses_exactly_what_the_scan_refuses():
    def outcome(check, html):
        try:
            check(html)
            return None
        except Rejected as refused:
            return refused.reason_code, str(refused)

    rng = random.Random(5)
    pieces = ["<div>", "</div>", "<br>", "<p/>", "x", "<", "</", "<!-- -->", "<b>", "<img src=x>"]
    cases = ["<div>" * 256, "<div>" * 257, "<div>" * 300 + "</div>" * 300, "<br>" * 20001, "<p>" * 255 + "<" * 10]
    cases += ["".join(rng.choice(pieces) for _ in range(rng.randint(200, 320))) for _ in range(3000)]
    refused = 0
    for html in cases:
        expected = outcome(html_text._scan_markup, html)
        assert outcome(html_text.check_markup, html) == expected, html[:80]
        refused += expected is not None
    assert refused >= 3
