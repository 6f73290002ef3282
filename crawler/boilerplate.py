"""Site furniture and advertising glued to crawled articles.

City news pages end with "相关阅读" link lists, copyright footers and real-estate or loan
ads ("首付15万买地铁三室"); none of it was written by the author and all of it would
poison search, clustering and the rumor classifier. Rules work on lines of the normalised
text: a tail marker cuts everything after it, footer and ad lines are removed where they
stand. Extra patterns per source come from ``settings.strip_patterns``.

Forum posts (Discuz! and the like) carry their own furniture: the edit stamp
"本帖最后由 xx 于 … 编辑", a quoted post ("xx 发表于 2026-12-3 20:11" and its text) before
the reply's own words, a "回复 3# 张三" prefix, attachment captions, a signature block
under a rule of dashes ending in a phone number, and a mobile-client line ("来自 iPhone
客户端"). A post a moderator masked ("作者被禁止或删除 内容自动屏蔽") has no text of its
own left and is reported as ``masked``.
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
    r"(?:(?:0\d{2,3}[-－ ]?)?\d{7,8}|1[3-9]\d[- ]?\d{4}[- ]?\d{4}|400[-－ ]?\d{3}[-－ ]?\d{4}|"
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


# -- forum furniture ----------------------------------------------------------------------
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?|(?:昨天|前天|今天)\s*\d{1,2}:\d{2}|"
    r"\d+\s*(?:秒|分钟|小时|天)前)"
)
#: A post's time as a quote header gives it: always with the time of day (a line such as
#: "本文发表于 2026-12-03" in an article is not a quote header).
_POST_TIME = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?|(?:昨天|前天|今天)\s*\d{1,2}:\d{2}|"
    r"\d+\s*(?:秒|分钟|小时|天)前)"
)
#: Discuz's edit stamp, bare or bracketed, at the start of a line.
EDIT_STAMP = re.compile(rf"^\s*\[?\s*本帖最后由\s*.{{1,40}}?\s*于\s*{_DATE}\s*编辑\s*\]?\s*")
#: The header line of a quoted post: "张三 发表于 2026-12-3 20:11" (Discuz X),
#: "原帖由 张三 于 2026-12-3 20:11 发表" (Discuz 7), "引用 3楼 张三 于 … 发表的 :" (phpwind).
QUOTE_HEADER = re.compile(
    rf"^\s*(?:\S.{{0,30}}?\s*发表于\s*{_POST_TIME}|原帖由\s*.{{1,30}}?\s*于\s*{_POST_TIME}\s*发表|"
    rf"引用.{{0,30}}?于\s*{_POST_TIME}\s*发表的?)\s*[:：]?\s*$"
)
#: "回复 3# 张三" / "回复 #3 张三" / "回复 张三 的帖子" before the reply's own words.
REPLY_PREFIX = re.compile(
    r"^\s*回复\s*(?:\d+\s*#|#\s*\d+|\d+\s*楼)\s*\S{1,20}?(?:\s*的帖子)?(?=\s|$)\s*[:：]?\s*|"
    r"^\s*回复\s+\S{1,20}\s*的帖子\s*[:：]?\s*"
)
#: What a forum shows instead of a post a moderator masked: the post has no text left.
MASKED = re.compile(
    r"^\s*(?:提示\s*[:：]\s*)?(?:作者被禁止或删除\s*内容自动屏蔽|该帖被管理员或版主屏蔽|"
    r"该帖(?:子)?(?:内容)?已被(?:管理员|版主)?(?:删除|屏蔽))\s*$"
)
#: Attachment captions Discuz puts inside the post ("下载附件 (52.3 KB)", "… 上传").
ATTACHMENT = re.compile(
    r"^\s*(?:下载附件(?:\s*\(.{0,30}\))?|保存到相册|\(\s*[\d.]+\s*[KMG]B\s*,\s*下载次数\s*[:：]\s*\d+\s*\)|"
    rf"{_DATE}\s*上传|(?!https?://|www\.)\S{{1,60}}\.(?:jpe?g|png|gif|webp|bmp)(?:\s*\(.{{0,40}}\))?)"
    r"\s*$",
    re.I,
)
#: A mobile client's signature ("来自 iPhone 客户端", "—— 来自 掌上岑江 Android 版",
#: "发自我的 iPhone", "来自: 手机版", "来自小米手机"), a line of its own or after a space.
_SIGNATURE_BODY = (
    r"(?:来自|发自|sent from)\s*[:：]?\s*(?:我的)?\s*(?:[^\s。，！？!?,]{1,12}\s*){0,2}?"
    r"(?:客户端|手机版|移动版|触屏版|手机|iphone|ipad|android\s*版?|安卓\s*版?|app|版)"
    r"(?:\s*[a-z0-9]{1,6}){0,3}\s*$"
)
SIGNATURE_LINE = re.compile(rf"^[-—–~_=\s]*{_SIGNATURE_BODY}", re.I)
SIGNATURE_TAIL = re.compile(rf"\s+[-—–~_=]*\s*{_SIGNATURE_BODY}", re.I)
#: A rule of dashes, equals, underscores or stars: what a forum signature or an appended ad
#: sits under.
RULE_LINE = re.compile(r"^\s*(?:[-=_*~—－＝·.+]\s*){5,}$")
#: The block under a rule is an ad when its contact is labelled or it says what it sells.
_LABELLED_CONTACT = re.compile(
    r"(?:电话|热线|手机|tel|联系|微信|vx|qq|咨询|预约|官网|网址|地址|详情)\s*[:：]?", re.I
)
_COMMERCE = re.compile(
    r"装修|口碑|专业|承接|加盟|招聘|回收|搬家|开锁|家政|维修|代办|诚信|欢迎|来电|上门|实惠|特价|"
    r"价格|批发|零售|定制|本店|门店|公司|工作室|服务|培训|招生|代理|出租|出售|转让|求购|办证|"
    rf"{_BLOCK_HINT.pattern}",
    re.I,
)
#: Words of a citizen's own addendum under a rule ("我打了 12345 电话反映"): never an ad.
_COMPLAINT = re.compile(
    r"投诉|反映|举报|没人|无人|不接|打不通|拨打|打了|打过|维权|曝光|求助|报警|物业|12345|12315|110|"
    r"通知|原文|详见|来源|出处"
)
_RULE_BLOCK_MAX_LINES = 6


def is_masked(text: str) -> bool:
    """True when a post's text is only a forum's "masked by a moderator" notice."""
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and all(MASKED.match(line) for line in lines)


def strip_forum_lines(lines: list[str]) -> tuple[list[str], list[str]]:
    """Remove edit stamps, quoted posts, a reply prefix and attachment captions."""
    fired: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stamp = EDIT_STAMP.match(line)
        if stamp:
            fired.append("edit_stamp")
            line = line[stamp.end() :]
            if not line.strip():
                i += 1
                continue
        if QUOTE_HEADER.match(line) and i + 1 < len(lines):
            # The quoted text: one line (Discuz collapses it, cut at 100 characters and
            # ending in "..."), or up to three when they run on to that "...".
            fired.append("quote")
            end = i + 1
            for j in range(i + 1, min(i + 4, len(lines))):
                if lines[j].rstrip().endswith(("...", "…")):
                    end = j
                    break
            i = end + 1
            continue
        if ATTACHMENT.match(line):
            fired.append("attachment")
            i += 1
            continue
        out.append(line)
        i += 1
    for k, line in enumerate(out):
        if not line.strip():
            continue
        prefix = REPLY_PREFIX.match(line)
        if prefix:
            fired.append("reply_prefix")
            rest = line[prefix.end() :]
            if rest.strip():
                out[k] = rest
            else:
                del out[k]
        break
    return out, fired


def _rule_block(lines: list[str]) -> int | None:
    """Index of the rule line that starts an ad appended under it, or ``None``.

    The block is 1–6 short lines ending in a phone number or URL, with a labelled contact
    ("电话：139 0000 1234") or a word of trade ("本地装修找老王，十年口碑"), no sentence that
    asks or ends with "。", and none of a complaint's words: "我打了 12345 电话反映" under a
    rule stays.
    """
    end = len(lines) - 1
    while end >= 0 and not lines[end].strip():
        end -= 1
    if end < 1 or not _CONTACT_END.search(lines[end]):
        return None
    rule = None
    for i in range(end - 1, max(-1, end - 1 - _RULE_BLOCK_MAX_LINES), -1):
        if RULE_LINE.match(lines[i]):
            rule = i
            break
    if rule is None or not any(line.strip() for line in lines[:rule]):
        return None
    block = [line.strip() for line in lines[rule + 1 : end + 1] if line.strip()]
    if any(len(line) > _BLOCK_LINE_MAX or RULE_LINE.match(line) for line in block):
        return None
    if any(re.search(r"[。？?]\s*$", line) or _COMPLAINT.search(line) for line in block):
        return None
    if not (_LABELLED_CONTACT.search(block[-1]) or any(_COMMERCE.search(b) for b in block)):
        return None
    return rule


def strip_forum_tail(lines: list[str]) -> tuple[list[str], list[str]]:
    """Remove a trailing mobile-client signature and an ad block under a rule line."""
    fired: list[str] = []
    changed = True
    while changed and lines:
        changed = False
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            break
        if SIGNATURE_LINE.match(lines[-1]) and len(lines) > 1:
            lines.pop()
            fired.append("signature")
            changed = True
            continue
        tail = SIGNATURE_TAIL.search(lines[-1])
        if tail and lines[-1][: tail.start()].strip():
            lines[-1] = lines[-1][: tail.start()]
            fired.append("signature")
            changed = True
            continue
        rule = _rule_block(lines)
        if rule is not None:
            del lines[rule:]
            fired.append("ad_block")
            changed = True
            continue
        if RULE_LINE.match(lines[-1]) and len(lines) > 1:
            lines.pop()  # a rule left over at the end
            fired.append("rule")
            changed = True
    return lines, fired


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
        if is_masked(text):
            return "", ["masked"]
        lines, fired = strip_forum_lines(text.split("\n"))
        lines, tail_fired = strip_forum_tail(lines)
        fired += tail_fired
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
