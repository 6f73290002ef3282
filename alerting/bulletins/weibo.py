"""Weibo text of a bulletin: a headline of at most 140 characters, the whole at most 2,000.

Weibo counts a CJK character as one and two ASCII characters as one; here every
character counts as one, which is never shorter than Weibo's count, so a text that passes
here fits there. A text over the limit is refused with its length (an officer shortens
it), never cut: a truncated bulletin can change its meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerting.bulletins.context import date_text
from models import Bulletin

HEADLINE_LIMIT = 140
TEXT_LIMIT = 2000


class TooLong(ValueError):
    """The bulletin does not fit in a Weibo post."""


@dataclass(frozen=True)
class WeiboText:
    headline: str
    text: str

    @property
    def length(self) -> int:
        return len(self.text)


def weibo_text(bulletin: Bulletin) -> WeiboText:
    """``【title】`` as the headline, then the paragraphs, the issuer and the date."""
    headline = f"【{bulletin.title}】"
    if len(headline) > HEADLINE_LIMIT:
        raise TooLong(
            f"标题过长：微博标题 {len(headline)} 字，上限 {HEADLINE_LIMIT} 字，请缩短标题"
        )
    paragraphs = [p.strip() for p in bulletin.body.split("\n\n") if p.strip()]
    sign = [
        s
        for s in (bulletin.issuer, date_text(bulletin.issued_on) if bulletin.issued_on else "")
        if s
    ]
    text = "\n".join([headline, *paragraphs, *sign])
    if len(text) > TEXT_LIMIT:
        raise TooLong(f"正文过长：微博全文 {len(text)} 字，上限 {TEXT_LIMIT} 字，请删减")
    return WeiboText(headline, text)
