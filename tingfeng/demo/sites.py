"""The demo city's sites, rendered as of a story time.

Page shapes are those of the crawler's recorded fixtures (tests/files/crawler/), so the
spiders parse them unchanged: a Discuz! X3.4 forum in GBK with relative dates and the
exact time in a ``title``, a news portal with list pages, article pages (ads, 相关阅读 and a
footer after the text) and RSS, the m.weibo.cn container / repost / hotflow JSON, and a
message board's JSON. Only what was posted at or before ``now`` is shown, and counts
(replies, reposts, comments) are those at ``now``.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, quote

from models import SHANGHAI
from tingfeng.demo.story import Blog, Comment, Story, Thread, User

FORUM_ID = 3
THREADS_PER_PAGE = 20
FLOORS_PER_PAGE = 10
ARTICLES_PER_PAGE = 15
RSS_ITEMS = 20
WEIBO_PAGE = 10
HOTFLOW_PAGE = 10

HTML = "text/html; charset=utf-8"
GBK = "text/html; charset=gbk"
JSON = "application/json; charset=utf-8"
XML = "application/rss+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str


def _json(data: Any) -> Answer:
    return Answer(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), JSON)


def _page(text: str) -> Answer:
    return Answer(200, text.encode("utf-8"), HTML)


NOT_FOUND = Answer(404, "页面不存在".encode(), TEXT)


def _int(values: dict[str, list[str]], name: str, default: int) -> int:
    try:
        return int(values.get(name, [str(default)])[0])
    except ValueError:
        return default


class CitySites:
    """Every site of the story's city on one host, under path prefixes."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self._threads = {t.tid: t for t in story.threads}
        self._articles = {a.aid: a for a in story.articles}
        self._blogs = {b.mid: b for b in story.blogs}

    def answer(self, path: str, query: str, now: datetime, base: str = "") -> Answer:
        """The answer to ``GET path?query`` at story time ``now``; ``base`` is the server's
        own address (``http://127.0.0.1:8123``), for the absolute links of the feed."""
        q = parse_qs(query, keep_blank_values=True)
        now = now.astimezone(SHANGHAI)
        if path in ("/", "/index.html"):
            return self.index(now)
        if path == "/robots.txt":
            return Answer(200, b"User-agent: *\nDisallow: /bbs/admin.php\n", TEXT)
        if path.startswith("/bbs/"):
            return self.forum(path.removeprefix("/bbs/"), now)
        if path.startswith("/news/"):
            return self.news(path.removeprefix("/news/"), now, base)
        if path == "/weibo/api/container/getIndex":
            return self.container(q, now)
        if path == "/weibo/api/statuses/repostTimeline":
            return self.reposts(q, now)
        if path == "/weibo/comments/hotflow":
            return self.hotflow(q, now)
        if path == "/board/api/messages":
            return self.board(q, now, base)
        return NOT_FOUND

    def index(self, now: datetime) -> Answer:
        s = self.story
        return _page(
            f'<html><head><meta charset="utf-8"><title>{s.city} · 演示城市</title></head><body>'
            f"<h1>{s.city}（虚构演示城市）</h1><p>故事时间：{now:%Y-%m-%d %H:%M}</p><ul>"
            f'<li><a href="/bbs/forum-{FORUM_ID}-1.html">江屿论坛 · 江屿茶座</a></li>'
            '<li><a href="/news/list_1.html">江屿新闻网</a>（<a href="/news/rss.xml">RSS</a>）</li>'
            f'<li><a href="{_search_path(s.city[:2])}">微博搜索「{s.city[:2]}」</a></li>'
            '<li><a href="/board/api/messages?page=1&amp;size=10">江屿市民心声 留言板</a></li>'
            "</ul></body></html>"
        )

    # -- 江屿论坛: Discuz! X3.4, GBK ---------------------------------------------------------
    def forum(self, name: str, now: datetime) -> Answer:
        parts = name.removesuffix(".html").split("-")
        try:
            if parts[0] == "forum" and int(parts[1]) == FORUM_ID:
                return self.forum_list(int(parts[2]), now)
            if parts[0] == "thread":
                return self.thread_page(int(parts[1]), int(parts[2]), now)
        except (IndexError, ValueError):
            pass
        return NOT_FOUND

    def _visible_threads(self, now: datetime) -> list[tuple[Thread, list[Any]]]:
        shown = []
        for t in self.story.threads:
            floors = [f for f in t.floors if f.at <= now]
            if floors:
                shown.append((t, floors))
        # Discuz orders a board by the last post
        shown.sort(key=lambda tf: (tf[1][-1].at, tf[0].tid), reverse=True)
        return shown

    def forum_list(self, page: int, now: datetime) -> Answer:
        shown = self._visible_threads(now)
        pages = max(1, math.ceil(len(shown) / THREADS_PER_PAGE))
        if page < 1 or page > pages:
            return NOT_FOUND
        rows = []
        for t, floors in shown[(page - 1) * THREADS_PER_PAGE : page * THREADS_PER_PAGE]:
            last = floors[-1]
            rows.append(
                f'<tbody id="normalthread_{t.tid}"><tr><th>'
                f'<a href="thread-{t.tid}-1-1.html" class="s xst">{html.escape(t.title)}</a></th>'
                f'<td class="by"><cite><a href="space-uid-{floors[0].author.uid}.html">'
                f"{html.escape(floors[0].author.name)}</a></cite></td>"
                f'<td class="num"><a href="thread-{t.tid}-1-1.html" class="xi2">'
                f"{len(floors) - 1}</a><em>{_views(t.tid, len(floors))}</em></td>"
                f'<td class="by"><cite>{html.escape(last.author.name)}</cite>'
                f"<em><span>{_discuz_time(last.at, now, plain=False)}</span></em></td>"
                "</tr></tbody>\n"
            )
        nxt = (
            f'<div class="pg"><strong>{page}</strong>'
            f'<a href="forum-{FORUM_ID}-{page + 1}.html" class="nxt">下一页</a></div>'
            if page < pages
            else ""
        )
        return _gbk(
            _discuz_head("江屿茶座 - 江屿论坛")
            + '<div id="pt"><a href="/bbs/">江屿论坛</a> &rsaquo; 江屿茶座</div>'
            f'<table id="threadlisttableid" summary="forum_{FORUM_ID}">{"".join(rows)}</table>'
            f"{nxt}{_DISCUZ_FOOT}"
        )

    def thread_page(self, tid: int, page: int, now: datetime) -> Answer:
        thread = self._threads.get(tid)
        floors = [f for f in thread.floors if f.at <= now] if thread else []
        if thread is None or not floors:
            return NOT_FOUND
        pages = math.ceil(len(floors) / FLOORS_PER_PAGE)
        if page < 1 or page > pages:
            return NOT_FOUND
        body = ""
        for n, f in enumerate(floors[(page - 1) * FLOORS_PER_PAGE : page * FLOORS_PER_PAGE]):
            number = (page - 1) * FLOORS_PER_PAGE + n + 1
            text = f.text
            if f.ad:
                text += "<br />\n" + "<br />\n".join(html.escape(line) for line in f.ad)
            body += (
                f'<div id="post_{f.pid}"><table id="pid{f.pid}" class="plhin"><tr>'
                f'<td class="pls"><div class="authi"><a href="space-uid-{f.author.uid}.html" '
                f'class="xw1">{html.escape(f.author.name)}</a></div></td>'
                f'<td class="plc"><div class="pi"><strong><a>{number}<sup>#</sup></a></strong>'
                f'<div class="pti"><div class="authi"><em id="authorposton{f.pid}">'
                f"发表于 {_discuz_time(f.at, now)}</em></div></div></div>"
                f'<div class="pct"><table><tr><td class="t_f" id="postmessage_{f.pid}">\n'
                f"{text}\n</td></tr></table></div></td></tr></table></div>\n"
            )
        pager = ""
        if page < pages:
            pager = (
                f'<div class="pg"><strong>{page}</strong>'
                f'<a href="thread-{tid}-{page + 1}-1.html" class="nxt">下一页</a></div>'
            )
        title = html.escape(thread.title)
        return _gbk(
            _discuz_head(f"{title} - 江屿茶座 - 江屿论坛")
            + f'<h1 class="ts"><span id="thread_subject">{title}</span></h1>'
            f'<div id="postlist">\n{body}</div>{pager}{_DISCUZ_FOOT}'
        )

    # -- 江屿新闻网 ----------------------------------------------------------------------------
    def news(self, name: str, now: datetime, base: str = "") -> Answer:
        shown = [a for a in self.story.articles if a.at <= now][::-1]
        if name == "rss.xml":
            return self.rss(shown[:RSS_ITEMS], now, base)
        if name.startswith("list_") and name.endswith(".html"):
            try:
                page = int(name[5:-5])
            except ValueError:
                return NOT_FOUND
            return self.news_list(shown, page)
        aid = _article_id(name)
        article = self._articles.get(aid) if aid else None
        if article is None or article.at > now or _article_path(article) != "/news/" + name:
            return NOT_FOUND
        paras = "".join(f"<p>{html.escape(p)}</p>" for p in article.paragraphs)
        return _page(
            f'<html><head><meta charset="utf-8"><title>{html.escape(article.title)}_江屿新闻网'
            f'</title></head><body><div class="nav"><a href="/news/">首页</a> '
            '<a href="/news/list_1.html">本地</a></div>'
            f'<div class="article"><h1 class="title">{html.escape(article.title)}</h1>'
            f'<div class="info"><span class="time">{article.at:%Y-%m-%d %H:%M}</span> '
            f'来源：<span class="author">{html.escape(article.source)}</span></div>'
            f'<div class="content" id="content">{paras}'
            "<p>【推广】东湖壹号院 首付15万买地铁三室！售楼热线：0596-6543210</p>"
            '<div class="related"><h3>相关阅读</h3><ul>'
            '<li><a href="/news/list_1.html">江屿本地新闻</a></li></ul></div></div></div>'
            '<div class="footer">版权所有 © 江屿新闻网 闽ICP备26000000号</div></body></html>'
        )

    def news_list(self, shown: list[Any], page: int) -> Answer:
        pages = max(1, math.ceil(len(shown) / ARTICLES_PER_PAGE))
        if page < 1 or page > pages:
            return NOT_FOUND
        items = "".join(
            f'<li><a href="{_article_path(a)}" target="_blank">{html.escape(a.title)}</a>'
            f"<span>{a.at:%m-%d %H:%M}</span></li>"
            for a in shown[(page - 1) * ARTICLES_PER_PAGE : page * ARTICLES_PER_PAGE]
        )
        nxt = f'<a class="next" href="list_{page + 1}.html">下一页</a>' if page < pages else ""
        return _page(
            '<html><head><meta charset="utf-8"><title>本地新闻_江屿新闻网</title></head><body>'
            f'<ul class="news-list">{items}</ul><div class="page">{nxt}</div></body></html>'
        )

    def rss(self, shown: list[Any], now: datetime, base: str = "") -> Answer:
        items = "".join(
            f"<item><title>{html.escape(a.title)}</title>"
            f"<link>{base}{_article_path(a)}?from=rss</link>"
            f'<guid isPermaLink="false">jynews-{a.aid}</guid>'
            f"<author>{html.escape(a.source)}</author>"
            f"<description>{html.escape(a.paragraphs[0][:60])}……</description>"
            f"<pubDate>{format_datetime(a.at)}</pubDate></item>"
            for a in shown
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>江屿新闻网</title><link>{base}/news/</link>"
            "<description>江屿本地新闻</description>"
            f"<lastBuildDate>{format_datetime(now)}</lastBuildDate>{items}</channel></rss>"
        )
        return Answer(200, body.encode("utf-8"), XML)

    # -- m.weibo.cn ---------------------------------------------------------------------------
    def _counts(self, now: datetime) -> tuple[dict[int, int], dict[int, int]]:
        reposts: dict[int, int] = {}
        comments: dict[int, int] = {}
        for b in self.story.blogs:
            if b.parent and b.at <= now:
                reposts[b.parent] = reposts.get(b.parent, 0) + 1
        for c in self.story.comments:
            if c.at <= now:
                comments[c.mid] = comments.get(c.mid, 0) + 1
        return reposts, comments

    def mblog(self, b: Blog, now: datetime, counts: tuple[dict[int, int], dict[int, int]]) -> Any:
        reposts, comments = counts
        out: dict[str, Any] = {
            "id": str(b.mid), "mid": str(b.mid), "bid": _bid(b.mid),
            "created_at": _weibo_time(b.at), "text": html.escape(b.text, quote=False),
            "source": _client(b.mid), "user": _weibo_user(b.user),
            "reposts_count": reposts.get(b.mid, 0), "comments_count": comments.get(b.mid, 0),
            "attitudes_count": (reposts.get(b.mid, 0) * 3 + comments.get(b.mid, 0)) // 2,
            "isLongText": False, "pic_num": 0,
        }  # fmt: skip
        if b.parent:
            out["retweeted_status"] = self.mblog(self._blogs[b.parent], now, counts)
        return out

    def container(self, q: dict[str, list[str]], now: datetime) -> Answer:
        container = q.get("containerid", [""])[0]
        page = _int(q, "page", 1)
        counts = self._counts(now)
        shown = [b for b in self.story.blogs if b.at <= now][::-1]
        if container.startswith("107603"):
            uid = container.removeprefix("107603")
            blogs = [b for b in shown if b.user.uid == uid]
            chunk = blogs[(page - 1) * WEIBO_PAGE : page * WEIBO_PAGE]
            cards = [{"card_type": 9, "itemid": "", "mblog": self.mblog(b, now, counts)}
                     for b in chunk]  # fmt: skip
        elif container.startswith("100103"):
            word = parse_qs(container.removeprefix("100103")).get("q", [""])[0]
            if not word:
                return _json({"ok": 0, "msg": "请输入关键词", "data": {"cards": []}})
            # the real search also finds reposts of a post that has the word
            blogs = [b for b in shown if word in b.text
                     or (b.parent and word in self._blogs[b.parent].text)]  # fmt: skip
            chunk = blogs[(page - 1) * WEIBO_PAGE : page * WEIBO_PAGE]
            cards = [
                {
                    "card_type": 11,
                    "card_group": [
                        {"card_type": 9, "mblog": self.mblog(b, now, counts)} for b in chunk
                    ],
                }
            ]
            if not chunk:
                cards = []
        else:
            return _json({"ok": 0, "msg": "参数错误", "data": {}})
        if not cards:
            return _json({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})
        return _json({"ok": 1, "data": {"cardlistInfo": {"page": page + 1}, "cards": cards}})

    def reposts(self, q: dict[str, list[str]], now: datetime) -> Answer:
        mid = _int(q, "id", 0)
        page = _int(q, "page", 1)
        if mid not in self._blogs or self._blogs[mid].at > now:
            return _json({"ok": 0, "msg": "微博不存在或暂无查看权限", "data": {}})
        counts = self._counts(now)
        rows = [b for b in self.story.blogs if b.parent == mid and b.at <= now][::-1]
        chunk = rows[(page - 1) * WEIBO_PAGE : page * WEIBO_PAGE]
        if not chunk:
            return _json({"ok": 0, "msg": "还没有人转发过", "data": {}})
        data = [self.mblog(b, now, counts) for b in chunk]
        # total_number, no "max": the page count is derived, as on the real site
        return _json({"ok": 1, "data": {"data": data, "total_number": len(rows),
                                        "hot_total_number": 0}})  # fmt: skip

    def hotflow(self, q: dict[str, list[str]], now: datetime) -> Answer:
        mid = _int(q, "id", 0)
        offset = _int(q, "max_id", 0)
        if mid not in self._blogs or self._blogs[mid].at > now:
            return _json({"ok": 0, "msg": "微博不存在或暂无查看权限", "data": {}})
        shown = [c for c in self.story.comments if c.mid == mid and c.at <= now]
        top = [c for c in shown if c.reply_to is None]
        chunk = top[offset : offset + HOTFLOW_PAGE]
        if not chunk:
            return _json({"ok": 0, "msg": "快来发表你的评论吧", "data": {}})
        rows = []
        for c in chunk:
            subs = [s for s in shown if s.reply_to == c.cid]
            row = _comment(c)
            row["total_number"] = len(subs)
            row["comments"] = [_comment(s) for s in subs] or False
            rows.append(row)
        more = offset + HOTFLOW_PAGE < len(top)
        return _json({"ok": 1, "data": {"data": rows, "total_number": len(shown),
                                        "max_id": offset + HOTFLOW_PAGE if more else 0,
                                        "max_id_type": 0}})  # fmt: skip

    # -- 江屿市民心声 留言板 -----------------------------------------------------------------------
    def board(self, q: dict[str, list[str]], now: datetime, base: str = "") -> Answer:
        page = max(1, _int(q, "page", 1))
        size = min(50, max(1, _int(q, "size", 10)))
        rows = []
        for m in self.story.messages:
            if m.at > now:
                continue
            replied = m.reply is not None and m.reply.at <= now
            reply = m.reply if replied else None
            rows.append((reply.at if reply else m.at, {
                "msgId": m.msg_id, "title": m.title, "content": m.text, "nickname": m.author,
                "createTime": f"{m.at:%Y-%m-%d %H:%M:%S}",
                "detailUrl": f"{base}/board/detail/{m.msg_id}.html",
                "status": "已回复" if reply else "办理中",
                "reply": {"dept": reply.dept, "replyTime": f"{reply.at:%Y-%m-%d %H:%M:%S}",
                          "content": reply.text} if reply else None,
            }))  # fmt: skip
        # the board lists by last update: a message answered today comes back to the top
        rows.sort(key=lambda r: (r[0], r[1]["msgId"]), reverse=True)
        chunk = [r[1] for r in rows[(page - 1) * size : page * size]]
        return _json(
            {
                "code": 0,
                "msg": "success",
                "data": {"list": chunk, "total": len(rows), "page": page, "size": size},
            }
        )


# -- helpers ------------------------------------------------------------------------------
def _gbk(text: str) -> Answer:
    return Answer(200, text.encode("gbk", errors="xmlcharrefreplace"), GBK)


def _discuz_head(title: str) -> str:
    return (
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" '
        f'content="text/html; charset=gbk" /><title>{title}</title></head><body>'
    )


_DISCUZ_FOOT = (
    '<div id="ft"><p>Powered by <strong>Discuz!</strong> X3.4 &copy; 2001-2026 '
    "江屿论坛 闽ICP备26000001号</p></div></body></html>"
)


def _discuz_time(at: datetime, now: datetime, plain: bool = True) -> str:
    """As Discuz prints it: recent times relatively with the exact time in a ``title``,
    older ones as plain text."""
    exact = f"{at.year}-{at.month}-{at.day} {at:%H:%M:%S}"
    ago = now - at
    if ago < timedelta(minutes=1):
        shown = "刚刚"
    elif ago < timedelta(hours=1):
        shown = f"{int(ago.total_seconds() // 60)}&nbsp;分钟前"
    elif at.date() == now.date():
        shown = f"{int(ago.total_seconds() // 3600)}&nbsp;小时前"
    elif at.date() == (now - timedelta(days=1)).date():
        shown = f"昨天&nbsp;{at:%H:%M}"
    elif at.date() == (now - timedelta(days=2)).date():
        shown = f"前天&nbsp;{at:%H:%M}"
    else:
        return f"{at.year}-{at.month}-{at.day} {at:%H:%M}" if plain else exact
    return f'<span title="{exact}">{shown}</span>'


def _views(tid: int, floors: int) -> int:
    return 40 + floors * 37 + tid % 97


def _article_path(a: Any) -> str:
    return f"/news/{a.at:%Y-%m}/{a.at:%d}/content_{a.aid}.html"


def _article_id(name: str) -> int | None:
    tail = name.rsplit("/", 1)[-1]
    if tail.startswith("content_") and tail.endswith(".html") and tail[8:-5].isdigit():
        return int(tail[8:-5])
    return None


def _search_path(word: str) -> str:
    container = quote(f"100103type=1&q={word}", safe="")
    return f"/weibo/api/container/getIndex?containerid={container}&page_type=searchall&page=1"


def _weibo_time(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%a %b %d %H:%M:%S +0800 %Y")


def _weibo_user(u: User) -> dict[str, Any]:
    return {
        "id": int(u.uid), "screen_name": u.name, "followers_count": u.followers,
        "follow_count": 100 + int(u.uid) % 400, "statuses_count": 200 + int(u.uid) % 5000,
        "verified": u.verified_type >= 0, "verified_type": u.verified_type,
        "description": "", "gender": "m" if int(u.uid) % 2 else "f",
    }  # fmt: skip


def _comment(c: Comment) -> dict[str, Any]:
    return {"id": c.cid, "mid": str(c.cid), "rootid": c.reply_to or c.cid,
            "created_at": _weibo_time(c.at), "text": html.escape(c.text, quote=False),
            "like_count": c.cid % 7, "user": _weibo_user(c.user), "source": "来自江屿"}  # fmt: skip


def _client(mid: int) -> str:
    return ("iPhone客户端", "Android", "HUAWEI Mate 60", "微博 weibo.com", "Redmi K70")[mid % 5]


def _bid(mid: int) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while mid:
        mid, r = divmod(mid, 62)
        out = alphabet[r] + out
    return out


def http_date(at: datetime) -> str:
    """The ``Date`` header for story time ``at``."""
    return format_datetime(at.astimezone(UTC), usegmt=True)
