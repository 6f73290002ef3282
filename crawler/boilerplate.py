"""Site furniture and advertising glued to crawled articles.

City news pages end with "相关阅读" link lists, copyright footers and real-estate or loan
ads ("首付15万买地铁三室"); none of it was written by the author and all of it would
poison search, clustering and the rumor classifier. Rules work on lines of the normalised
text: a tail marker cuts everything after it, footer and ad lines are removed where they
stand. Extra patterns per source come from ``settings.strip_patterns``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

#: A line that starts a block of links to other articles: cut it and everything after.
TAIL_MARKERS = re.compile(
    r"^\s*[【\[]?(?:相关阅读|相关新闻|相关链接|相关文章|推荐阅读|延伸阅读|热门推荐|猜你喜欢|"
    r"精彩推荐|往期回顾|更多精彩|热点推荐|今日推荐)[】\]]?\s*[:：]?"
)
#: Footer lines: copyright, ICP numbers, contact and disclaimer boilerplate, editor credits.
FOOTER = re.compile(
    r"版权所有|copyright|©|\(c\)\s*\d{4}|[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]ICP[备证]|"
    r"ICP备\d|公网安备|联系我们|关于我们|免责声明|网站地图|违法和不良信息举报|"
    r"^\s*[（(]?\s*(?:责任编辑|责编|编辑|来源)\s*[:：][^。]{0,20}[)）]?\s*$|"
    r"未经授权.{0,10}(?:转载|复制)|本站(?:文章|内容).{0,10}转载|扫一扫.{0,8}(?:关注|二维码)|"
    r"分享到[:：]|打印本页|关闭窗口|【字号",
    re.I,
)
#: Real-estate and loan ads. Each hit scores; a line with two hits, or one strong hit, is an ad.
_AD_STRONG = re.compile(
    r"首付\s*\d+(?:\.\d+)?\s*万.{0,12}(?:买|购|入住|住)|(?:买|购).{0,6}地铁.{0,4}[一二两三四五]房|"
    r"[一二两三四五]室.{0,6}(?:首付|月供)|月供\s*\d+.{0,6}(?:住|买)|无抵押.{0,6}贷|"
    r"(?:加|添加|\+)\s*(?:微信|vx|v信|威信)\s*[:：]?\s*[a-z0-9_-]{5,}|"
    r"(?:售楼|置业)(?:热线|顾问|专线)|低息.{0,4}(?:贷|借)",
    re.I,
)
_AD_WEAK = re.compile(
    r"首付|月供|地铁口|学区房|精装|现房|样板间|楼盘|售楼|户型|特价房|贷款|借款|秒批|日息|"
    r"到账|热线|咨询电话|详询|\d{3,4}-?\d{7,8}|1[3-9]\d{9}|抢购|限时|优惠"
)


def is_ad_line(line: str) -> bool:
    if _AD_STRONG.search(line):
        return True
    return len(_AD_WEAK.findall(line)) >= 3 and len(line) < 120


#: A line ending in a phone number or a URL: how an appended ad or a site's "contact us"
#: block ends.
_CONTACT_END = re.compile(
    r"(?:(?:0\d{2,3}[-－ ]?)?\d{7,8}|1[3-9]\d{9}|400[-－ ]?\d{3}[-－ ]?\d{4}|"
    r"https?://\S+|www\.\S+|[\w.-]+@[\w-]+\.[\w.]+)\s*[。.!！]?\s*$",
    re.I,
)
#: Words of ads and site furniture counted inside a block that ends in a contact. Phone
#: numbers, "热线" and "电话" are not evidence: they are what a complaint cites too.
_BLOCK_HINT = re.compile(
    r"首付|月供|地铁口|学区房|精装|现房|样板间|楼盘|售楼|户型|特价房|贷款|借款|秒批|日息|到账|"
    r"抢购|限时|优惠|广告|推广|赞助|投稿|爆料|报料|新闻热线|邮箱|本网|本站|商务合作|客户端|"
    r"公众号|二维码|官网|点击|报名|咨询|详询|预约|看房|热销|开盘|认筹|特惠|加微信|vx|微信号",
    re.I,
)
#: Lines of an appended block are short; a longer one is the post's own text.
_BLOCK_LINE_MAX = 80
_SENTENCE_END = re.compile(r"[。？！?!…」”]\s*$")
_BLOCK_MAX_LINES = 8
#: Score a block needs: a strong ad hit is 3, every weak ad word or block hint 1.
_BLOCK_MIN_SCORE = 4


def _block_score(line: str) -> int:
    return 3 * len(_AD_STRONG.findall(line)) + len(_BLOCK_HINT.findall(line))


def tail_block(lines: list[str]) -> int | None:
    """Start index of an ad or boilerplate block appended to ``lines``, or ``None``.

    The block ends in a phone number or URL (``售楼热线：0838-6123456``) and is made of
    short lines that look like advertising or site furniture, allowing one plain line
    inside it (a development's name). It must score :data:`_BLOCK_MIN_SCORE`, have at least
    two lines and leave some text before it: a complaint that cites a hotline at its end
    ("物业电话0838-6667788一直没人接") scores too little to be cut.
    """
    end = len(lines) - 1
    while end >= 0 and not lines[end].strip():
        end -= 1
    if end < 1 or not _CONTACT_END.search(lines[end]) or len(lines[end]) > _BLOCK_LINE_MAX:
        return None
    score = _block_score(lines[end])
    start = end
    gap = 0
    i = end - 1
    while i >= 0 and end - i < _BLOCK_MAX_LINES:
        line = lines[i].strip()
        if not line:
            i -= 1
            continue
        if len(line) > _BLOCK_LINE_MAX:
            break
        points = _block_score(line)
        if _SENTENCE_END.search(line) and not _AD_STRONG.search(line):
            break  # a sentence of the post ("…有人去看过吗？"), not a line of an ad

        if points == 0:
            gap += 1
            if gap > 1:
                break
        else:
            gap = 0
            score += points
            start = i
        i -= 1
    if start == end or score < _BLOCK_MIN_SCORE:
        return None
    if not any(line.strip() for line in lines[:start]):
        return None  # the whole post: the per-line rules and only_boilerplate decide
    return start


@dataclass
class BoilerplateStripper:
    """Remove tail blocks, footer lines and ad lines from normalised text.

    ``extra_patterns`` are regular expressions for one source; a matching line is removed.
    ``min_keep`` guards against a rule eating the article: a tail marker in the first
    ``min_keep`` characters is ignored.
    """

    extra_patterns: Iterable[str] = ()
    min_keep: int = 30
    _extra: list[re.Pattern[str]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._extra = [re.compile(p) for p in self.extra_patterns]

    def clean(self, text: str) -> tuple[str, list[str]]:
        """Return the cleaned text and the names of the rules that removed something."""
        fired: list[str] = []
        lines = text.split("\n")
        kept: list[str] = []
        ads: list[bool] = []
        seen_chars = 0
        for line in lines:
            if TAIL_MARKERS.match(line) and seen_chars >= self.min_keep:
                fired.append("tail_block")
                break
            if any(p.search(line) for p in self._extra):
                fired.append("source_pattern")
                continue
            if len(line) <= 200 and FOOTER.search(line):
                fired.append("footer")
                continue
            ad = is_ad_line(line)
            kept.append(line)
            ads.append(ad)
            if not ad:
                seen_chars += len(line)
        # An appended block (ad, "contact us") goes as a whole, its ad lines with it.
        start = tail_block(kept)
        if start is not None:
            del kept[start:], ads[start:]
            fired.append("ad_block")
        if any(ads):
            fired.append("ad")
            kept = [line for line, ad in zip(kept, ads, strict=True) if not ad]
        # A trailing run of very short lines (link labels, "返回顶部") left after the cut.
        while kept and len(kept[-1]) <= 4 and len(kept) > 1:
            kept.pop()
            fired.append("tail_crumbs")
        return "\n".join(kept).strip(), sorted(set(fired))
