"""The crawl configuration for the demo city: what an office in 江屿 would write.

Sources follow docs/sources.md (the Discuz, news site, feed, Weibo and message-board
examples) with this city's addresses; ``office.accounts`` are the city's government
accounts from the story, the gazetteer its districts. ``demo_config`` returns the
configuration as a dict (a complete tingfeng.yaml), ``write_demo_config`` writes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tingfeng.demo.sites import FORUM_ID
from tingfeng.demo.story import Item, Story, load_story

#: Weibo search keywords: the city and its districts' short names.
KEYWORDS = ["江屿", "临江", "屿山", "东湖", "青石"]
#: The source each channel of the story is crawled by (the feed's articles are stored as
#: the news site's posts, see docs/sources.md).
CHANNEL_SOURCES = {"forum": "jy-bbs", "news": "jy-news", "weibo": "jy-weibo", "board": "jy-board"}


def post_id(item: Item) -> str:
    """The id a complete crawl stores ``item`` under."""
    return f"{CHANNEL_SOURCES[item.channel]}:{item.native_id}"


def demo_config(base_url: str, data_dir: str | Path, story: Story | None = None) -> dict[str, Any]:
    """A complete Tingfeng configuration crawling the story server at ``base_url``."""
    story = story or load_story()
    base = base_url.rstrip("/")
    office = [u.uid for u in story.office_accounts]
    watched = office + [u.uid for u in story.accounts.values() if not u.office]
    return {
        "store": {"backend": "sqlite", "path": str(Path(data_dir) / "tingfeng.db")},
        # official sites: the portal, and the board (its departments' replies, not the messages)
        "office": {
            "name": "江屿市委网信办",
            "accounts": office,
            "sources": ["jy-news", "jy-board"],
        },
        "crawler": {
            # one local server: no politeness delays needed
            "download_delay": 0,
            "autothrottle": False,
            "per_domain_concurrency": 8,
            "download_timeout": 5,
            "retry_times": 1,
            "retry_backoff": 0.1,
            "log_level": "WARNING",
        },
        "gazetteer": {d: list(places) for d, places in story.districts.items()},
        # The story's history starts the day before: a one-day baseline, so the burst rule
        # can fire on the first evening (the default 7-day window needs a week of data).
        "hot": {
            "locality": story.city,
            "burst": {"history_days": 1.0},
        },
        "sources": [
            {
                "name": "jy-bbs",
                "kind": "site",
                "title": "江屿论坛 · 江屿茶座",
                "interval_minutes": 10,
                "settings": {
                    "start_urls": [f"{base}/bbs/forum-{FORUM_ID}-1.html"],
                    "id_pattern": r"thread-(\d+)-",
                    "list": {
                        "item": "tbody[id^=normalthread]",
                        "link": "a.xst::attr(href)",
                        "fingerprint": "td.num a::text",
                        "fields": {"comments": "td.num a::text", "views": "td.num em::text"},
                        "next_page": "a.nxt::attr(href)",
                    },
                    "thread": {
                        "title": "#thread_subject::text",
                        "floors": "#postlist > div[id^=post_]",
                        "floor_id": "::attr(id)",
                        "content": "td.t_f",
                        "fields": {
                            "author": "a.xw1::text",
                            "author_id": {"select": "a.xw1::attr(href)", "re": r"uid-(\d+)"},
                            "created_at": {
                                "select": "em[id^=authorposton] span::attr(title), "
                                "em[id^=authorposton]::text",
                                "re": r"(\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}(?::\d{2})?"
                                r"|[今昨前]天\s*\d{1,2}:\d{2}|半小时前"
                                r"|\d+\s*个?\s*(?:秒|分钟|小时|天|周)前|刚刚)",
                            },
                        },
                        "next_page": "div.pg a.nxt::attr(href)",
                    },
                },
            },
            {
                "name": "jy-news",
                "kind": "site",
                "title": "江屿新闻网",
                "interval_minutes": 15,
                "settings": {
                    "start_urls": [f"{base}/news/list_1.html"],
                    "id_pattern": r"content_(\d+)\.html",
                    "list": {
                        "item": "ul.news-list li",
                        "link": "a::attr(href)",
                        "next_page": "a.next::attr(href)",
                    },
                    "detail": {
                        "title": "h1.title::text",
                        "content": "#content",
                        "fields": {
                            "created_at": ".info .time::text",
                            "author": ".info .author::text",
                        },
                    },
                    "expect_new_within_minutes": 720,
                },
            },
            {
                "name": "jy-news-rss",
                "kind": "feed",
                "title": "江屿新闻网 RSS",
                "interval_minutes": 15,
                "settings": {"urls": [f"{base}/news/rss.xml"], "expect_new_within_minutes": 720},
            },
            {
                "name": "jy-weibo",
                "kind": "weibo",
                "title": "微博 · 江屿",
                "interval_minutes": 5,
                "settings": {
                    "api_base": f"{base}/weibo",
                    "users": watched,
                    "keywords": KEYWORDS,
                    # a quiet evening fills several pages between two crawls
                    "max_pages": 20,
                    # a small city: follow the comments and reposts of every post that has any
                    "heat_threshold": 1,
                    # a quiet city's evening: hours may pass without a new post
                    "expect_new_within_minutes": 240,
                },
            },
            {
                "name": "jy-board",
                "kind": "jsonapi",
                "title": "江屿市民心声 留言板",
                "interval_minutes": 30,
                "settings": {
                    "url": f"{base}/board/api/messages?page={{page}}&size=10",
                    "paging": {"mode": "page", "start": 1, "size": 10, "max_pages": 5},
                    "items": "data.list",
                    "ok": "code == `0`",
                    "fields": {
                        "native_id": "msgId",
                        "title": "title",
                        "text": "content",
                        "author": "nickname",
                        "created_at": "createTime",
                        "url": "detailUrl",
                        "fingerprint": "status",
                    },
                    "children": [
                        {
                            "items": "reply",
                            "kind": "reply",
                            "fields": {
                                "author": "dept",
                                "created_at": "replyTime",
                                "text": "content",
                            },
                        }
                    ],
                    "expect_new_within_minutes": 720,
                },
            },
        ],
    }


def write_demo_config(
    path: str | Path, base_url: str, data_dir: str | Path, story: Story | None = None
) -> Path:
    """Write :func:`demo_config` as YAML to ``path`` (parents created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(
        demo_config(base_url, data_dir, story), allow_unicode=True, sort_keys=False
    )
    path.write_text("# 江屿市演示城市的爬虫配置（tingfeng.demo.config 生成）\n" + text, "utf-8")
    return path
