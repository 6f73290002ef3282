"""Markup to clean text: the normalise step's tools.

Kept apart from the pipeline so parsing tests and the bench can call them directly.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from crawler.boilerplate import QUOTE_HEADER

#: Blocks after which a line break belongs in the text.
_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "section",
        "article",
        "table",
        "ul",
        "ol",
        "dd",
        "dt",
        "header",
        "footer",
    ]
)
_DROP_TAGS = ("script", "style", "noscript", "iframe", "object", "embed", "template")
_SHORT_LINK = re.compile(r"^https?://(?:t\.cn|sinaurl\.cn|url\.cn)/", re.I)
#: Weibo/forum emoticon codes: [哈哈] [doge] [心]; at most 8 characters, no spaces.
EMOTICON = re.compile(r"\[([\u4e00-\u9fffA-Za-z0-9_]{1,8})\]")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2002-\u200b\u202f\u205f]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")

# Full-width ASCII letters, digits and a few symbols become half-width; Chinese punctuation
# (，。！？：；（）) stays as the writer typed it.
_FULLWIDTH = {
    **{code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)},  # ０-９
    **{code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)},  # Ａ-Ｚ
    **{code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)},  # ａ-ｚ
    0x3000: 0x20,  # ideographic space
    0xFF20: 0x40,  # ＠
    0xFF03: 0x23,  # ＃
    0xFF05: 0x25,  # ％
    0xFF0B: 0x2B,  # ＋
    0xFF0F: 0x2F,  # ／
    0xFF0E: 0x2E,  # ．
    0xFF3F: 0x5F,  # ＿
}


def looks_like_html(text: str) -> bool:
    return "<" in text and re.search(r"</?[a-zA-Z][^>]*>|&[a-z]+;|&#\d+;", text) is not None


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment, with block boundaries as line breaks.

    Emoticon images become their code (``<img alt="[哈哈]">`` → ``[哈哈]``) and short links
    (t.cn) keep their URL instead of the "网页链接" label Weibo shows. Broken markup is
    repaired by lxml; what cannot be parsed at all is returned with tags stripped by regex.
    """
    if not markup or not markup.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]+>", " ", markup)
    etree.strip_elements(root, *_DROP_TAGS, etree.Comment, with_tail=False)
    _drop_quoted_posts(root)
    for img in root.iter("img"):
        alt = (img.get("alt") or img.get("title") or "").strip()
        img.text = alt if EMOTICON.fullmatch(alt) else ""
    for link in root.iter("a"):
        # m.weibo.cn puts the short link in data-url and a search URL in href.
        href = (link.get("data-url") or "").strip()
        if not _SHORT_LINK.match(href):
            href = (link.get("href") or "").strip()
        if _SHORT_LINK.match(href):
            for child in list(link):
                link.remove(child)
            link.text = f" {href} "
    parts: list[str] = []
    _walk(root, parts)
    return "".join(parts)


def _drop_quoted_posts(root: etree._Element) -> None:
    """Remove quoted posts: a ``<blockquote>`` or ``<div class="quote">`` whose first line
    names who wrote it and when ("张三 发表于 2026-12-3 20:11"). The quote is another
    post's text; a reply quoting a rumor must not store the rumor as its own words."""
    for node in list(root.iter("blockquote", "div")):
        if node.tag == "div" and "quote" not in (node.get("class") or "").split():
            continue
        if node.getparent() is None:
            continue
        parts: list[str] = []
        _walk(node, parts)
        first = next((line for line in "".join(parts).split("\n") if line.strip()), "")
        if QUOTE_HEADER.match(normalise_text(first)):
            node.drop_tree()  # keeps the tail: the reply's own words after the quote


def _walk(node: etree._Element, parts: list[str]) -> None:
    tag = node.tag if isinstance(node.tag, str) else ""
    block = tag.lower() in _BLOCK_TAGS
    if block:
        parts.append("\n")
    if node.text:
        parts.append(node.text)
    for child in node:
        _walk(child, parts)
        if child.tail:
            parts.append(child.tail)
    if block:
        parts.append("\n")


def normalise_text(text: str) -> str:
    """Half-width ASCII, one space between words, at most one blank line, trimmed."""
    text = text.translate(_FULLWIDTH).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u200b", "").replace("\ufeff", "")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return _BLANK_LINES.sub("\n", text).strip()


def emoticons(text: str) -> list[str]:
    """Emoticon codes in order of first appearance (``[哈哈]``, ``[doge]``)."""
    seen: dict[str, None] = {}
    for match in EMOTICON.finditer(text):
        seen.setdefault(match.group(0), None)
    return list(seen)


#: Query parameters that track a visit and never select content.
_TRACKING = re.compile(
    r"^(?:utm_\w+|spm|from|source|src|share\w*|fromid|scene|ref|refer|isappinstalled|"
    r"wx_\w+|vd_source|_t|timestamp)$",
    re.I,
)


def canonical_url(url: str, declared: str | None = None) -> str:
    """One URL per article, whichever way it was reached (RSS, Atom, a list page).

    The page's own ``<link rel="canonical">`` (``declared``) wins when it is an http(s)
    URL; otherwise ``url``. Either is normalised: lower-case scheme and host, no default
    port, no fragment, no tracking parameters (``utm_*``, ``from``, ``spm``...), the other
    parameters sorted.
    """
    from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

    chosen = url
    if declared and declared.strip():
        candidate = urljoin(url, declared.strip())
        if urlsplit(candidate).scheme in ("http", "https"):
            chosen = candidate
    parts = urlsplit(chosen)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)
    )
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def main_text(markup: str, url: str | None = None) -> str | None:
    """The main text of an article page by trafilatura (navigation, comments, footers
    left out), for pages no configured template describes; ``None`` when it finds none."""
    import trafilatura

    text = trafilatura.extract(
        markup,
        url=url,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
        deduplicate=False,
    )
    return text.strip() or None if text else None
