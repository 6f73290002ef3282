"""Normalise: markup to text, whitespace, full-width forms, t.cn links, emoticon codes."""

from __future__ import annotations

import re

from scrapy.exceptions import DropItem

from crawler.items import PostItem
from crawler.pipelines import Step
from crawler.text import emoticons, html_to_text, looks_like_html, normalise_text

_URL = re.compile(r"https?://[^\s<>\"'，。！？）)\]】]+")


class NormalisePipeline(Step):
    """Turn ``html`` (or markup found in ``text``) into clean text; list short links and
    emoticon codes in ``extra`` so later steps need not re-parse them."""

    def process_item(self, item: PostItem) -> PostItem:
        if not isinstance(item, PostItem):
            return item
        raw = item.html if item.html else item.text or ""
        if item.html or looks_like_html(raw):
            try:
                raw = html_to_text(raw)
            except Exception as exc:  # lxml gives up on some binary junk
                self.problem(item, "bad_markup", repr(exc))
                raw = re.sub(r"<[^>]+>", " ", raw)
        item.text = normalise_text(raw)
        item.html = None
        if item.title:
            title = item.title
            if looks_like_html(title):
                title = html_to_text(title)
            item.title = normalise_text(title).replace("\n", " ") or None
        if item.text:
            codes = emoticons(item.text)
            if codes:
                item.extra["emoticons"] = codes
            links = _URL.findall(item.text)
            if links:
                item.extra["links"] = list(dict.fromkeys(links))
        if not item.text and not item.title and item.kind != "repost":
            self.problem(item, "empty_after_markup")
            raise DropItem(f"empty_after_markup: {item.post_id}", log_level="INFO")
        return item
