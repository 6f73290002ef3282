"""Crawls stepped through an evening with ``tingfeng crawl --at T``, through the real Scrapy
engine against 桐湾市's small purpose-made pages served on 127.0.0.1 (no HTTP ``Date``):
cursors only move past what was accepted, so a later crawl still collects what an earlier
one left out as written after its clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from store.base import PostFilter
from store.sqlite import SQLiteStore
from tests.crawler.conftest import REPO, write_config


def _blog(mid: int, hhmm: str, text: str) -> dict[str, Any]:
    return {
        "id": str(mid),
        "mid": str(mid),
        "created_at": f"Fri Mar 20 {hhmm}:00 +0800 2026",
        "text": text,
        "reposts_count": 0,
        "comments_count": 0,
        "attitudes_count": 1,
        "user": {"id": 7100000 + mid % 100, "screen_name": f"桐湾网友{mid % 100}"},
    }


#: The 桐湾 search, newest first, three posts a page (ids grow with time, as on Weibo).
SEARCH = [
    [
        _blog(4880000000000006, "21:00", "桐湾码头晚上的灯光秀开始了，人很多"),
        _blog(4880000000000005, "20:50", "桐湾码头附近停车场已经满了"),
        _blog(4880000000000004, "20:40", "桐湾码头灯光秀九点开始，大家早点去"),
    ],
    [
        _blog(4880000000000003, "20:30", "听说桐湾码头今晚有人落水，是真的吗"),
        _blog(4880000000000002, "20:20", "桐湾码头海事局说没有人落水，别传了"),
        _blog(4880000000000001, "19:00", "桐湾今天傍晚的晚霞真好看"),
    ],
]

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>桐湾发布</title>
<item><title>桐湾码头灯光秀交通管制通告</title><link>__BASE__/gov/a/71.html</link>
<guid>tw-71</guid><pubDate>Fri, 20 Mar 2026 18:00:00 +0800</pubDate>
<description>灯光秀期间码头路交通管制。</description></item>
<item><title>关于桐湾码头“有人落水”的情况说明</title><link>__BASE__/gov/a/72.html</link>
<guid>tw-72</guid><pubDate>Fri, 20 Mar 2026 21:30:00 +0800</pubDate>
<description>经核实，桐湾码头今晚无人落水。</description></item>
</channel></rss>"""

ARTICLES = {
    "/gov/a/71.html": "3月20日18时至23时，码头路实行交通管制，请市民绿色出行，按指引停车。",
    "/gov/a/72.html": "经桐湾海事局核实，3月20日晚桐湾码头未发生人员落水，网传信息不实。",
}


def _article(text: str) -> bytes:
    return (
        '<html><head><meta charset="utf-8"><title>桐湾发布</title></head><body>'
        f"<h1>桐湾发布</h1><article><p>{text}</p><p>{text}</p></article></body></html>"
    ).encode()


def _floor(pid: int, author: str, posted: str, text: str) -> str:
    return (
        f'<div id="post_{pid}"><table><tr><td class="pls"><a class="xw1" href="space-uid-{pid}'
        f'.html">{author}</a></td><td class="plc"><div class="pi"><em id="authorposton{pid}">'
        f'{posted}</em></div><td class="t_f">{text}</td></td></tr></table></div>'
    )


def _forum(*threads: tuple[int, str, int]) -> bytes:
    rows = "".join(
        f'<tbody id="normalthread_{tid}"><tr><th><a class="xst" href="thread-{tid}-1-1.html">'
        f'{title}</a></th><td class="num"><a>{replies}</a><em>99</em></td></tr></tbody>'
        for tid, title, replies in threads
    )
    return (
        '<html><head><meta charset="gbk"><title>桐湾论坛 - 码头杂谈</title></head><body><table>'
        f"{rows}</table></body></html>"
    ).encode("gbk")


def _thread(title: str, *floors: str) -> bytes:
    return (
        f'<html><head><meta charset="gbk"></head><body><h1 id="thread_subject">{title}</h1>'
        f'<div id="postlist">{"".join(floors)}</div></body></html>'
    ).encode("gbk")


GBK = "text/html; charset=gbk"
#: Discuz's mixed date forms, read at 2026-03-21 00:20 (the crawl's clock).
FORUM = {
    "/bbs/forum-3-1.html": (_forum((301, "桐湾码头灯光秀几点结束", 7)), GBK),
    "/bbs/thread-301-1-1.html": (
        _thread(
            "桐湾码头灯光秀几点结束",
            _floor(
                3011,
                "码头老吴",
                '发表于 <span title="2026-3-20 21:40:10">昨天&nbsp;21:40</span>',
                "灯光秀几点结束？想带孩子去看",
            ),
            _floor(3012, "海边阿珍", "发表于 昨天&nbsp;20:10", "去年是十点结束的"),
            _floor(3013, "渔港小林", "发表于 前天 08:00", "前天彩排的时候我看过一次"),
            _floor(3014, "夜猫子", "发表于 3&nbsp;小时前", "现在还在放，人少了"),
            _floor(3015, "码头保安", "发表于 半小时前", "已经结束了，大家注意安全"),
            _floor(3016, "晚归的人", "发表于 12 分钟前", "码头路还在管制吗"),
            _floor(3017, "热心网友", "发表于 刚刚", "管制解除了"),
            _floor(3018, "老桐湾", "发表于 2026-3-18 09:12", "上周就贴出通知了"),
        ),
        GBK,
    ),
    # The government site's list of the same articles the feed links to.
    "/gov/list.html": (
        (
            '<html><head><meta charset="utf-8"></head><body><ul class="list">'
            '<li><a href="/gov/a/72.html">关于桐湾码头“有人落水”的情况说明</a></li>'
            '<li><a href="/gov/a/71.html">桐湾码头灯光秀交通管制通告</a></li></ul></body></html>'
        ).encode(),
        "text/html; charset=utf-8",
    ),
    # A floor whose date the config cannot read, and one written after 20:00.
    "/bbs/forum-4-1.html": (_forum((401, "码头路今晚管制到几点", 1)), GBK),
    "/bbs/thread-401-1-1.html": (
        _thread(
            "码头路今晚管制到几点",
            _floor(4011, "开车的老张", "", "码头路今晚管制到几点？"),
            _floor(4012, "桐湾交警", "发表于 2026-3-20 21:00", "管制至23时，请绕行"),
        ),
        GBK,
    ),
}


#: 桐湾市民留言板: a JSON list under data.list.
BOARD = [
    {"id": "M801", "title": "码头路夜间噪音", "content": "灯光秀散场后码头路鸣笛到凌晨，希望管理",
     "time": "2026-03-20 23:10"},
    {"id": "M802", "title": "码头公厕太少", "content": "灯光秀人多，码头附近只有一个公厕",
     "time": "2026-03-20 22:40"},
]  # fmt: skip


class _Pages(BaseHTTPRequestHandler):
    """桐湾's pages, answered without a ``Date`` header. ``server.pages`` adds more (a
    ``(location, "redirect")`` entry answers 302)."""

    protocol_version = "HTTP/1.1"

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        parts = urlsplit(self.path)
        extra: dict[str, tuple[bytes, str]] = getattr(self.server, "pages", {})
        if parts.path == "/robots.txt":
            body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
        elif parts.path == "/weibo/api/container/getIndex":
            page = int(parse_qs(parts.query).get("page", ["1"])[0])
            if page <= len(SEARCH):
                data: dict[str, Any] = {"ok": 1, "data": {"cards": [
                    {"card_type": 9, "mblog": b} for b in SEARCH[page - 1]]}}  # fmt: skip
            else:
                data = {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}
            body, kind = json.dumps(data, ensure_ascii=False).encode(), "application/json"
        elif parts.path == "/gov/rss.xml":
            body, kind = FEED.replace("__BASE__", base).encode(), "application/xml"
        elif parts.path in ARTICLES:
            body, kind = _article(ARTICLES[parts.path]), "text/html; charset=utf-8"
        elif parts.path == "/board/api":
            page = int(parse_qs(parts.query).get("page", ["1"])[0])
            rows = BOARD if page == 1 else []
            data = {"code": 0, "data": {"list": rows, "total": len(BOARD)}}
            body, kind = json.dumps(data, ensure_ascii=False).encode(), "application/json"
        elif parts.path in FORUM:
            body, kind = FORUM[parts.path]
        elif self.path in extra and extra[self.path][1] == "redirect":
            self.send_response(302)
            self.send_header("Location", extra[self.path][0].decode().replace("__BASE__", base))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        elif self.path in extra:
            body, kind = extra[self.path]
            body = body.replace(b"__BASE__", base.encode())
        else:
            body, kind = "页面不存在".encode(), "text/plain; charset=utf-8"
            self.send_response(404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    httpd.daemon_threads = True
    httpd.pages = {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def base(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def tingfeng(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from tingfeng.cli import main; main()", "-c", str(config),
         *args],
        capture_output=True, text=True, timeout=90, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
    )  # fmt: skip


def stored(config: Path, source: str | None = None) -> dict[str, Any]:
    with SQLiteStore(config.parent / "tingfeng.db") as store:
        return {
            p.native_id: p
            for p in store.iter_posts(PostFilter())
            if source is None or p.source == source
        }


def at(hhmm: str) -> str:
    return f"2026-03-20T{hhmm}:00+08:00"


def test_weibo_posts_after_the_clock_do_not_move_the_cursor(base: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, [
        {"name": "tw-weibo", "kind": "weibo", "title": "微博 · 桐湾",
         "settings": {"api_base": f"{base}/weibo", "keywords": ["桐湾"], "max_pages": 3}},
    ])  # fmt: skip
    # 19:30: only the 19:00 post (page 2) is visible; 20:35: the 20:20 and 20:30 posts on
    # page 2 (page 1 is all later); 22:00: everything.
    for hhmm in ("19:30", "20:35", "22:00"):
        result = tingfeng(config, "crawl", "--at", at(hhmm))
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        ids = set(stored(config))
        if hhmm == "19:30":
            assert ids == {"4880000000000001"}
        if hhmm == "20:35":
            assert ids == {"4880000000000001", "4880000000000002", "4880000000000003"}
    assert set(stored(config)) == {str(4880000000000000 + n) for n in range(1, 7)}
    with SQLiteStore(tmp_path / "tingfeng.db") as store:
        cursor = store.get_state("cursor:tw-weibo")
    assert cursor["newest"] == {"search:桐湾": 4880000000000006}


def test_a_feed_article_after_the_clock_is_fetched_again(base: str, tmp_path: Path) -> None:
    # The feed follows each entry's link (full text): the article is stored under its
    # canonical URL, not under the entry's guid, which must still be forgotten.
    config = write_config(tmp_path, [
        {"name": "tw-gov", "kind": "feed", "title": "桐湾发布",
         "settings": {"urls": [f"{base}/gov/rss.xml"]}},
    ])  # fmt: skip
    assert tingfeng(config, "crawl", "--at", at("21:00")).returncode == 0
    assert [p.title for p in stored(config).values()] == ["桐湾码头灯光秀交通管制通告"]
    assert tingfeng(config, "crawl", "--at", at("22:00")).returncode == 0
    titles = sorted(p.title or "" for p in stored(config).values())
    assert titles == ["关于桐湾码头“有人落水”的情况说明", "桐湾码头灯光秀交通管制通告"]
    # Served as application/xml without a charset, but the XML declaration names it.
    assert "charset_missing" not in health_of(config, "tw-gov")["problems"]


DOC = REPO / "docs" / "sources.md"


def documented_forum(start_url: str) -> dict[str, Any]:
    """The Discuz! example of docs/sources.md, verbatim but for its start URL."""
    for block in DOC.read_text("utf-8").split("```yaml\n")[1:]:
        data = yaml.safe_load(block.split("```", 1)[0])
        for source in data.get("sources") or []:
            if source["settings"].get("thread"):
                source["settings"]["start_urls"] = [start_url]
                return source
    raise AssertionError("no forum example in docs/sources.md")


def test_the_documented_discuz_dates_read_every_form(base: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, [documented_forum(f"{base}/bbs/forum-3-1.html")])
    result = tingfeng(config, "crawl", "--at", "2026-03-21T00:20:00+08:00")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    posts = stored(config)
    dates = {p.native_id: p.created_at for p in posts.values()}
    assert dates == {
        "thread-301": datetime.fromisoformat("2026-03-20T21:40:10+08:00"),  # the title
        "post-3012": datetime.fromisoformat("2026-03-20T20:10:00+08:00"),  # 昨天 20:10
        "post-3013": datetime.fromisoformat("2026-03-19T08:00:00+08:00"),  # 前天 08:00
        "post-3014": datetime.fromisoformat("2026-03-20T21:20:00+08:00"),  # 3 小时前
        "post-3015": datetime.fromisoformat("2026-03-20T23:50:00+08:00"),  # 半小时前
        "post-3016": datetime.fromisoformat("2026-03-21T00:08:00+08:00"),  # 12 分钟前
        "post-3017": datetime.fromisoformat("2026-03-21T00:20:00+08:00"),  # 刚刚
        "post-3018": datetime.fromisoformat("2026-03-18T09:12:00+08:00"),
    }
    assert not any(p.extra.get("created_at_estimated") for p in posts.values())


def test_an_estimated_date_never_moves_later(base: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, [documented_forum(f"{base}/bbs/forum-4-1.html")])
    # 20:00: the reply (21:00) is left out, so the thread is read again at 22:00; its
    # first floor has no date and is stamped with the clock each time it is read.
    assert tingfeng(config, "crawl", "--at", at("20:00")).returncode == 0
    first = stored(config)["thread-401"]
    assert first.extra.get("created_at_estimated") and first.created_at == datetime.fromisoformat(
        at("20:00")
    )
    assert tingfeng(config, "crawl", "--at", at("22:00")).returncode == 0
    posts = stored(config)
    assert set(posts) == {"thread-401", "post-4012"}
    assert posts["thread-401"].created_at == datetime.fromisoformat(at("20:00"))
    assert posts["thread-401"].extra.get("created_at_estimated")


def health_of(config: Path, name: str) -> dict[str, Any]:
    with SQLiteStore(config.parent / "tingfeng.db") as store:
        return store.get_state(f"source_health:{name}")


def test_a_list_selector_that_matches_nothing_is_unhealthy(base: str, tmp_path: Path) -> None:
    source = documented_forum(f"{base}/bbs/forum-3-1.html")
    source["settings"]["list"]["item"] = "tbody[id^=normalthreads]"  # a typo'd, valid selector
    config = write_config(tmp_path, [source])
    result = tingfeng(config, "crawl", "--at", "2026-03-21T00:20:00+08:00")
    assert result.returncode == 1, result.stdout[-2000:]
    health = health_of(config, "qc-bbs")
    assert not health["healthy"] and health["code"] == "list_unmatched"
    reason = "列表选择器 list.item（tbody[id^=normalthreads]）没有匹配到任何条目"
    assert health["reason"] == reason
    said = result.stdout + result.stderr
    assert reason in said and "qc-bbs：最近新增 无" in said
    assert tingfeng(config, "crawl", "--health").returncode == 1


def test_a_json_items_path_that_matches_nothing_is_unhealthy(base: str, tmp_path: Path) -> None:
    board = {"url": f"{base}/board/api?page={{page}}", "items": "data.lst",
             "fields": {"native_id": "id", "title": "title", "text": "content",
                        "created_at": "time"}}  # fmt: skip
    config = write_config(tmp_path, [
        {"name": "tw-board", "kind": "jsonapi", "title": "桐湾市民留言板", "settings": board},
    ])  # fmt: skip
    result = tingfeng(config, "crawl", "--at", "2026-03-21T00:20:00+08:00")
    assert result.returncode == 1, result.stdout[-2000:]
    health = health_of(config, "tw-board")
    assert health["code"] == "list_unmatched"
    assert health["reason"] == "条目路径 items（data.lst）没有匹配到任何条目"
    assert "bad_json" not in health["problems"] and health["problems"]["items_unmatched"] == 1
    assert health["last_new_item_at"] is None
    assert "tw-board：最近新增 无" in result.stdout + result.stderr
    # The right path: healthy, both messages in.
    board["items"] = "data.list"
    (tmp_path / "ok").mkdir()
    config = write_config(tmp_path / "ok", [
        {"name": "tw-board", "kind": "jsonapi", "title": "桐湾市民留言板", "settings": board},
    ])  # fmt: skip
    result = tingfeng(config, "crawl", "--at", "2026-03-21T00:20:00+08:00")
    assert result.returncode == 0, result.stdout[-2000:]
    assert set(stored(config)) == {"M801", "M802"}


def test_a_content_selector_that_misses_most_floors_is_unhealthy(base: str, tmp_path: Path) -> None:
    source = documented_forum(f"{base}/bbs/forum-3-1.html")
    source["settings"]["thread"]["content"] = "td.t_ff"
    config = write_config(tmp_path, [source])
    result = tingfeng(config, "crawl", "--at", "2026-03-21T00:20:00+08:00")
    assert result.returncode == 1, result.stdout[-2000:]
    health = health_of(config, "qc-bbs")
    assert health["code"] == "content_unmatched"
    assert health["reason"] == "正文选择器 thread.content（td.t_ff）在 8 条中有 7 条没有匹配到正文"


def test_an_unreachable_site_is_said_in_chinese(tmp_path: Path) -> None:
    source = documented_forum("http://127.0.0.1:1/forum-2-1.html")
    config = write_config(tmp_path, [source])
    result = tingfeng(config, "crawl")
    assert result.returncode == 1
    health = health_of(config, "qc-bbs")
    assert health["errors"] == {"connection_refused": 1}
    assert health["code"] == "only_errors" and health["reason"] == "只有错误：连接被拒绝×1"
    said = result.stdout + result.stderr
    assert "连接被拒绝×1" in said and "downloadconnectionrefusederror" not in said


def test_a_feed_whose_articles_the_site_stores_is_credited(base: str, tmp_path: Path) -> None:
    # The setup docs/sources.md recommends: the site source has the article template, the
    # feed finds the articles; every article is stored once, as the site's post.
    site = {"start_urls": [f"{base}/gov/list.html"], "id_pattern": r"/a/(\d+)\.html$",
            "list": {"item": "ul.list li", "link": "a::attr(href)"},
            "detail": {"title": "a.none::text", "content": "article"}}  # fmt: skip
    config = write_config(tmp_path, [
        {"name": "tw-site", "kind": "site", "title": "桐湾发布网站", "settings": site},
        {"name": "tw-feed", "kind": "feed", "title": "桐湾发布 RSS",
         "settings": {"urls": [f"{base}/gov/rss.xml"], "expect_new_within_minutes": 30}},
    ])  # fmt: skip
    # The site is crawled first each time, so the feed never stores an article itself.
    for hhmm in ("21:00", "22:00", "22:20"):
        assert tingfeng(config, "crawl", "tw-site", "--at", at(hhmm)).returncode == 0
        result = tingfeng(config, "crawl", "tw-feed", "--at", at(hhmm))
        health = health_of(config, "tw-feed")
        # 22:20: nothing new since the 21:30 notice was found at 22:00, 20 minutes ago.
        assert result.returncode == 0, (hhmm, health["reason"])
    assert {p.source for p in stored(config).values()} == {"tw-site"}
    assert len(stored(config)) == 2
    assert health["healthy"] and health["new_items"] == 0
    assert health["last_new_item_at"] == at("22:00")
    # Later, nothing new for longer than expected: stale as any source.
    result = tingfeng(config, "crawl", "tw-feed", "--at", at("23:00"))
    assert result.returncode == 1 and health_of(config, "tw-feed")["code"] == "stale"


def test_a_site_whose_feed_stores_its_articles_first_is_not_stale(
    server: ThreadingHTTPServer, base: str, tmp_path: Path
) -> None:
    # The other order: the feed is crawled first each time and stores every article as the
    # site's post, so the site's own crawl inserts nothing. The articles are still new to
    # the site (its cursor had not collected them): its health counts them, and it is not
    # stale while they keep coming (枫川 red-team evening: 停滞 alert on a live portal).
    dated = {81: ("18:00", "码头路交通管制通告"), 82: ("21:30", "关于码头“有人落水”的情况说明")}
    pages = server.pages  # type: ignore[attr-defined]
    items = "".join(
        f"<item><title>{title}</title><link>__BASE__/gov2/a/{n}.html</link><guid>tw2-{n}</guid>"
        f"<pubDate>Fri, 20 Mar 2026 {hhmm}:00 +0800</pubDate><description>{title}</description>"
        "</item>"
        for n, (hhmm, title) in dated.items()
    )
    pages["/gov2/rss.xml"] = (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>桐湾发布'
        f"</title>{items}</channel></rss>".encode(),
        "application/xml",
    )
    links = "".join(f'<li><a href="/gov2/a/{n}.html">{t}</a></li>' for n, (_, t) in dated.items())
    pages["/gov2/list.html"] = (
        f'<html><head><meta charset="utf-8"></head><body><ul class="list">{links}</ul>'
        "</body></html>".encode(),
        "text/html; charset=utf-8",
    )
    for n, (hhmm, title) in dated.items():
        pages[f"/gov2/a/{n}.html"] = (
            f'<html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}'
            f'</h1><span class="time">2026-03-20 {hhmm}</span><article><p>{title}：经桐湾海事局'
            "核实，情况如下，请市民按指引出行。</p></article></body></html>".encode(),
            "text/html; charset=utf-8",
        )
    site = {"start_urls": [f"{base}/gov2/list.html"], "id_pattern": r"/a/(\d+)\.html$",
            "list": {"item": "ul.list li", "link": "a::attr(href)"},
            "detail": {"title": "h1::text", "content": "article",
                       "fields": {"created_at": ".time::text"}},
            "expect_new_within_minutes": 30}  # fmt: skip
    config = write_config(tmp_path, [
        {"name": "tw-site", "kind": "site", "title": "桐湾发布网站", "settings": site},
        {"name": "tw-feed", "kind": "feed", "title": "桐湾发布 RSS",
         "settings": {"urls": [f"{base}/gov2/rss.xml"]}},
    ])  # fmt: skip
    for hhmm in ("21:00", "22:00", "22:20"):
        assert tingfeng(config, "crawl", "tw-feed", "--at", at(hhmm)).returncode == 0
        result = tingfeng(config, "crawl", "tw-site", "--at", at(hhmm))
        health = health_of(config, "tw-site")
        assert result.returncode == 0, (hhmm, health["reason"])
    assert {p.source for p in stored(config).values()} == {"tw-site"}
    assert len(stored(config)) == 2
    assert health["healthy"] and health["new_items"] == 0
    assert health["last_new_item_at"] == at("22:00")  # the 21:30 notice, found at 22:00
    # Nothing new for longer than expected: stale as any source.
    tingfeng(config, "crawl", "tw-feed", "--at", at("23:00"))
    result = tingfeng(config, "crawl", "tw-site", "--at", at("23:00"))
    assert result.returncode == 1 and health_of(config, "tw-site")["code"] == "stale"


def test_health_is_read_at_the_reference_clock(base: str, tmp_path: Path) -> None:
    # Stepping a past evening, an officer asks how the sources stood at a moment of it:
    # `crawl --health --at T` judges staleness at T, not at the wall clock (months later,
    # where every source of a recorded evening is stale).
    config = write_config(tmp_path, [
        {"name": "tw-feed", "kind": "feed", "title": "桐湾发布 RSS",
         "settings": {"urls": [f"{base}/gov/rss.xml"], "expect_new_within_minutes": 30}},
    ])  # fmt: skip
    assert tingfeng(config, "crawl", "--at", at("22:00")).returncode == 0
    result = tingfeng(config, "crawl", "--health", "--at", at("22:10"))
    said = result.stdout + result.stderr
    assert result.returncode == 0 and "停滞" not in said, said[-2000:]
    result = tingfeng(config, "crawl", "--health", "--at", at("23:00"))
    said = result.stdout + result.stderr
    assert result.returncode == 1 and "停滞：60 分钟没有新帖" in said, said[-2000:]


def _weibo_pages(path: str, pages: list[list[dict[str, Any]]]) -> dict[str, tuple[bytes, str]]:
    """``path``'s pages 1..n as the API answers them, then the end of the list."""
    out = {}
    for n, blogs in enumerate([*pages, []], start=1):
        cards = [{"card_type": 9, "mblog": b} for b in blogs]
        data: dict[str, Any] = {"ok": 1, "data": {"cards": cards}}
        if not blogs:
            data = {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}
        body = json.dumps(data, ensure_ascii=False).encode()
        out[f"{path}&page={n}"] = (body, "application/json")
    return out


#: 桐湾's posts of the evening; ids grow with time, as on Weibo. 1xx are found by the
#: search, 2xx are a watched user's.
EVENING = {
    101: "19:00", 102: "19:10", 103: "19:20", 104: "19:50", 105: "20:31", 106: "20:40",
    107: "20:50", 201: "19:05", 202: "19:30", 203: "20:10", 204: "20:45",
}  # fmt: skip


def _post(mid: int) -> dict[str, Any]:
    return _blog(mid, EVENING[mid], f"桐湾码头第{mid}条：晚上的灯光秀排队情况")


def test_a_search_listed_out_of_id_order_loses_no_post(
    server: ThreadingHTTPServer, base: str, tmp_path: Path
) -> None:
    # A search is ordered by relevance and time, not by id: at 20:00 page 1 lists 103
    # (19:20) above 105 (20:31, after the clock), and page 2 has 106 (20:40). The cursor
    # moves to 104; a crawl that then stopped at "caught up" (103 <= 104 on page 1) would
    # never read 106 on page 2, nor 105 once it moved there.
    search = "/wbs/api/container/getIndex?containerid=100103type%3D1%26q%3D%E6%A1%90%E6%B9%BE"
    search += "&page_type=searchall"
    user = "/wbs/api/container/getIndex?type=uid&value=7100001&containerid=1076037100001"
    evening = [[_post(103), _post(105), _post(101)], [_post(106), _post(102), _post(104)]]
    later = [[_post(107), _post(103), _post(101)], [_post(105), _post(106), _post(102)],
             [_post(104)]]  # fmt: skip
    # A user's own timeline, newest first: only what was after a clock makes it unfinished.
    own = [[_post(204), _post(203), _post(202)], [_post(201)]]
    server.pages.update(_weibo_pages(user, own))  # type: ignore[attr-defined]
    config = write_config(tmp_path, [
        {"name": "tw-wb", "kind": "weibo", "title": "微博 · 桐湾",
         "settings": {"api_base": f"{base}/wbs", "keywords": ["桐湾"], "users": ["7100001"],
                      "max_pages": 4}},
    ])  # fmt: skip
    for hhmm, pages in (("20:00", evening), ("20:35", evening), ("21:00", later),
                        ("22:00", later)):  # fmt: skip
        server.pages.update(_weibo_pages(search, pages))  # type: ignore[attr-defined]
        result = tingfeng(config, "crawl", "--at", at(hhmm))
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        due = {str(m) for m, t in EVENING.items() if t <= hhmm}
        assert set(stored(config)) == due, hhmm
        with SQLiteStore(tmp_path / "tingfeng.db") as store:
            assert store.count_posts(PostFilter()) == len(due)  # no duplicates
            cursor = store.get_state("cursor:tw-wb")
        if hhmm == "20:00":
            assert cursor["newest"] == {"search:桐湾": 104, "user:7100001": 202}
            assert cursor["unfinished"] == ["search:桐湾", "user:7100001"]
        if hhmm == "21:00":
            # The user timeline was read to its end, in order, with nothing left out.
            assert cursor["unfinished"] == ["search:桐湾"]
    # The search is still out of order, so it stays unfinished (read to max_pages); the
    # user timeline stops at its first page again, where a known id shows.
    assert cursor["unfinished"] == ["search:桐湾"]
    endpoints = health_of(config, "tw-wb")["endpoints"]
    assert endpoints["timeline"]["ok"] == 1 and endpoints["search"]["ok"] == 4


#: Under every open Discuz thread for a guest: not a login wall.
REPLY_BOX = '<div id="f_pst">您需要登录后才可以回帖 <a href="member.php?mod=logging">登录</a></div>'
#: Discuz's answer to a guest for a thread above their read permission.
NO_PERMISSION = (
    '<html><head><meta charset="gbk"><title>提示信息 - 桐湾论坛</title></head><body>'
    '<div id="messagetext" class="alert_error"><p>抱歉，本帖要求阅读权限高于 10 才能浏览</p>'
    "</div></body></html>"
).encode("gbk")


def _open_thread(tid: int) -> bytes:
    floor = _floor(tid * 10 + 1, "码头老吴", "发表于 2026-3-20 19:40", f"第{tid}帖：码头今晚人多")
    html = _thread(f"码头杂谈{tid}", floor).decode("gbk")
    return html.replace("</body>", REPLY_BOX + "</body>").encode("gbk")


def _walled_forum(server: ThreadingHTTPServer, board: int, open_: list[int], walled: list[int]):
    """Board ``board`` lists the ``open_`` threads and the ``walled`` ones: the first
    walled one answers the read-permission page, the others redirect to the login."""
    pages = server.pages  # type: ignore[attr-defined]
    tids = sorted(open_ + walled)
    pages[f"/bbs/forum-{board}-1.html"] = (_forum(*((t, f"码头杂谈{t}", 1) for t in tids)), GBK)
    for tid in open_:
        pages[f"/bbs/thread-{tid}-1-1.html"] = (_open_thread(tid), GBK)
    for n, tid in enumerate(walled):
        if n == 0:
            pages[f"/bbs/thread-{tid}-1-1.html"] = (NO_PERMISSION, GBK)
        else:
            login = f"__BASE__/bbs/member.php?mod=logging&action=login&referer=thread-{tid}"
            pages[f"/bbs/thread-{tid}-1-1.html"] = (login.encode(), "redirect")


def test_a_members_only_thread_is_skipped_not_a_broken_forum(
    server: ThreadingHTTPServer, base: str, tmp_path: Path
) -> None:
    _walled_forum(server, 5, open_=[501, 502, 503], walled=[504, 505])
    source = documented_forum(f"{base}/bbs/forum-5-1.html")
    config = write_config(tmp_path, [source])
    result = tingfeng(config, "crawl", "--at", at("21:00"))
    said = result.stdout + result.stderr
    assert result.returncode == 0, said[-3000:]
    assert set(stored(config)) == {"thread-501", "thread-502", "thread-503"}
    health = health_of(config, "qc-bbs")
    assert health["healthy"] and health["code"] is None
    assert health["errors"] == {"login_required": 2} and health["blocked"] is None
    thread = health["endpoints"]["parse_thread"]
    assert (thread["ok"], thread["failed"], thread["login_required"]) == (3, 0, 2)
    urls = [f"{base}/bbs/thread-504-1-1.html", f"{base}/bbs/thread-505-1-1.html"]
    assert sorted(health["login_required_urls"]) == urls
    note = health["notes"][0]
    assert note.startswith("需要登录（已跳过）：帖子页（parse_thread）5 个页面中 2 个需要登录：")
    assert all(u in note for u in urls)
    assert "正常" in said and "需要登录×2" in said and "需要登录（已跳过）" in said

    # The office knows these two: excluded, they are not even asked for.
    source["settings"]["exclude"] = [r"thread-50[45]-"]
    (tmp_path / "ex").mkdir()
    config = write_config(tmp_path / "ex", [source])
    assert tingfeng(config, "crawl", "--at", at("21:00")).returncode == 0
    health = health_of(config, "qc-bbs")
    assert health["healthy"] and health["errors"] == {} and health["notes"] == []
    assert health["endpoints"]["parse_thread"]["ok"] == 3


def test_a_forum_mostly_behind_a_login_wall_is_unhealthy(
    server: ThreadingHTTPServer, base: str, tmp_path: Path
) -> None:
    _walled_forum(server, 6, open_=[601], walled=[602, 603])
    config = write_config(tmp_path, [documented_forum(f"{base}/bbs/forum-6-1.html")])
    result = tingfeng(config, "crawl", "--at", at("21:00"))
    assert result.returncode == 1
    health = health_of(config, "qc-bbs")
    assert health["code"] == "blocked"
    assert health["reason"].startswith(
        "被拦截：登录墙（帖子页（parse_thread）3 个页面中 2 个需要登录："
    )
    assert set(stored(config)) == {"thread-601"}


def test_one_walled_thread_asked_again_is_not_a_blocked_forum(
    server: ThreadingHTTPServer, base: str, tmp_path: Path
) -> None:
    # A quiet board: the second crawl finds every open thread unchanged (same reply count)
    # and asks only for the members-only one again, which is still walled. That one page is
    # not "most of the board": the threads it did not ask for answered before.
    _walled_forum(server, 7, open_=[701, 702, 703], walled=[704])
    config = write_config(tmp_path, [documented_forum(f"{base}/bbs/forum-7-1.html")])
    for hhmm in ("21:00", "21:15"):
        result = tingfeng(config, "crawl", "--at", at(hhmm))
        said = result.stdout + result.stderr
        assert result.returncode == 0, said[-3000:]
        health = health_of(config, "qc-bbs")
        assert health["healthy"] and health["code"] is None, (hhmm, health["reason"])
        assert "需要登录（已跳过）" in health["notes"][0]
    thread = health["endpoints"]["parse_thread"]
    assert (thread["ok"], thread["login_required"], thread["unchanged"]) == (0, 1, 3)
    assert set(stored(config)) == {"thread-701", "thread-702", "thread-703"}

    # A board mostly behind the wall stays unhealthy when crawled again unchanged.
    _walled_forum(server, 8, open_=[801], walled=[802, 803])
    (tmp_path / "b8").mkdir()
    config = write_config(tmp_path / "b8", [documented_forum(f"{base}/bbs/forum-8-1.html")])
    for hhmm in ("21:00", "21:15"):
        assert tingfeng(config, "crawl", "--at", at(hhmm)).returncode == 1, hhmm
        assert health_of(config, "qc-bbs")["code"] == "blocked", hhmm


@pytest.mark.parametrize("exclude", [["thread-(50"], "thread-50"])
def test_a_bad_exclude_is_refused_in_chinese(base: str, tmp_path: Path, exclude: Any) -> None:
    source = documented_forum(f"{base}/bbs/forum-5-1.html")
    source["settings"]["exclude"] = exclude
    config = write_config(tmp_path, [source])
    result = tingfeng(config, "crawl", "--at", at("21:00"))
    assert result.returncode == 2, result.stdout[-2000:]
    assert "sources.qc-bbs.settings.exclude" in result.stderr
    assert "Traceback" not in result.stderr
    if isinstance(exclude, list):
        assert "不是有效的正则表达式" in result.stderr


def _busy_thread(tid: int, last: str) -> bytes:
    """A thread with two replies an hour from 09:00 to 22:59 on 16–18 March, none at
    night, up to ``last`` on the 18th (``HH:MM``)."""
    floors = [_floor(tid * 1000, "码头老吴", "发表于 2026-3-15 20:00", "码头夜市开张了")]
    for day in (16, 17, 18):
        for hour in range(9, 23):
            for minute in (10, 40):
                if day == 18 and f"{hour:02d}:{minute:02d}" > last:
                    continue
                pid = tid * 1000 + len(floors)
                posted = f"发表于 2026-3-{day} {hour:02d}:{minute:02d}"
                floors.append(_floor(pid, f"网友{pid % 97}", posted, f"夜市第{pid}帖：今天人多"))
    return _thread("码头夜市", *floors)


@pytest.mark.parametrize(
    ("last", "silent_from", "checked", "healthy"),
    [("22:40", "2026-03-18T23:00", "2026-03-19T07:00", True),
     ("12:40", "2026-03-18T13:00", "2026-03-18T16:20", False)],
)  # fmt: skip
def test_a_quiet_night_is_not_stale_a_silent_afternoon_is(
    server: ThreadingHTTPServer, base: str, tmp_path: Path, last: str, silent_from: str,
    checked: str, healthy: bool,
) -> None:  # fmt: skip
    board = 7 if healthy else 8
    tid = board * 100 + 1
    pages = server.pages  # type: ignore[attr-defined]
    pages[f"/bbs/forum-{board}-1.html"] = (_forum((tid, "码头夜市", 90)), GBK)
    pages[f"/bbs/thread-{tid}-1-1.html"] = (_busy_thread(tid, last), GBK)
    config = write_config(tmp_path, [documented_forum(f"{base}/bbs/forum-{board}-1.html")])
    # Watched since the 16th; the crawl at the start of the silence takes in the replies.
    for clock in ("2026-03-16T08:00", silent_from):
        assert tingfeng(config, "crawl", "--at", f"{clock}:00+08:00").returncode == 0
    result = tingfeng(config, "crawl", "--at", f"{checked}:00+08:00")
    health = health_of(config, "qc-bbs")
    assert health["new_items"] == 0 and health["expect_new_within_minutes"] == 60
    if healthy:  # 8 hours without a reply, as every night of its history
        assert result.returncode == 0 and health["healthy"], health["reason"]
    else:
        assert result.returncode == 1 and health["code"] == "stale"
        assert health["reason"] == (
            "停滞：3 小时 20 分没有新帖（按近 2 天同时段，此时段应有约 6 帖）"
        )
