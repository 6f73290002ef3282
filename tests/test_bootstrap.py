"""One bootstrap for every entry point: the crawl process, imports (and their worker
processes) and every command cut words with the office's dictionary and the gazetteer's
place names, so what one indexes the others find.

The city is a fictional one of its own (梧桐市), with words bundled jieba splits.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from nlp.tokenize import cut
from tests.ingest.cedfactory import write_event

TINGFENG = Path(sys.executable).parent / "tingfeng"  # the installed command
CST = timezone(timedelta(hours=8))
#: A landmark only the office's dictionary knows (bundled jieba: 梧溪 / 古渡).
LANDMARK = "梧溪古渡"
GAZETTEER = {"梧桐区": ["桐岭镇", "青石板街"], "落霞县": ["落霞渡口", "云栖坊"]}


def tingfeng(cfg: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(TINGFENG), "--config", str(cfg), *args],
        capture_output=True, text=True, timeout=120, cwd=cfg.parent,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cfg.parent), "COLUMNS": "200"},
    )  # fmt: skip
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


ITEMS = [
    ("梧桐区关于梧溪古渡景区临时封闭的通告", "wt-101",
     f"<p>因汛期安全需要，{LANDMARK}景区自即日起临时封闭，请市民游客&ldquo;勿前往&rdquo;。</p>"),
    ("网传“桐岭镇自来水有毒”不实", "wt-102",
     "<p>近日有网民称桐岭镇自来水有毒。经检测，桐岭镇供水水质符合国家标准。</p>"),
    ("落霞县云栖坊夜市恢复营业", "wt-103", "<p>落霞县云栖坊夜市今晚恢复营业。</p>"),
]  # fmt: skip


def rss(base: str, now: datetime) -> bytes:
    """The portal's feed; each entry links to its article on the same (local) server."""
    body = "".join(
        f"<item><title>{title}</title><link>{base}/{guid}.html</link>"
        f'<guid isPermaLink="false">{guid}</guid>'
        f"<pubDate>{format_datetime(now - timedelta(hours=i + 2))}</pubDate>"
        f"<description><![CDATA[{text}]]></description></item>"
        for i, (title, guid, text) in enumerate(ITEMS)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>梧桐市人民政府</title><link>{base}/</link>{body}</channel></rss>"
    ).encode()


def article(guid: str) -> bytes | None:
    for title, g, text in ITEMS:
        if g == guid:
            return (
                f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>"
                f"<div class='nav'>首页 | 政务公开</div><h1>{title}</h1>"
                f"<div class='article'>{text}<p>梧桐市人民政府办公室</p></div>"
                "<div class='footer'>版权所有 梧桐市人民政府</div></body></html>"
            ).encode()
    return None


@pytest.fixture
def feed_server() -> Iterator[str]:
    now = datetime.now(CST)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/rss.xml":
                body, kind = rss(base, now), "application/rss+xml; charset=utf-8"
            else:
                body = article(self.path.strip("/").removesuffix(".html"))
                kind = "text/html; charset=utf-8"
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_config(tmp: Path, **extra: object) -> Path:
    (tmp / "dict").mkdir(exist_ok=True)
    (tmp / "dict" / "places.txt").write_text(f"# 梧桐市地名\n{LANDMARK} 20 ns\n", "utf-8")
    cfg = {
        "store": {"path": "data/t.db"},
        "nlp": {"user_dict": ["dict/places.txt"]},  # relative to this file's folder
        "gazetteer": GAZETTEER,
        **extra,
    }
    path = tmp / "wutong.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")
    return path


def fts_tokens(db: Path) -> list[list[str]]:
    with sqlite3.connect(db) as con:
        return [t.split() for (t,) in con.execute("SELECT tokens FROM posts_fts")]


def test_a_crawled_post_is_found_by_its_dictionary_word(tmp_path: Path, feed_server: str) -> None:
    assert cut(LANDMARK) != [LANDMARK]  # without the dictionary the landmark is split
    fast = {"download_delay": 0, "autothrottle": False, "download_timeout": 5, "retry_times": 0}
    cfg = write_config(
        tmp_path,
        crawler=fast,
        sources=[
            {"name": "wt-gov", "kind": "feed", "settings": {"urls": [f"{feed_server}/rss.xml"]}}
        ],
    )
    crawl = tingfeng(cfg, "crawl", check=False)
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    db = tmp_path / "data" / "t.db"
    assert any(LANDMARK in tokens for tokens in fts_tokens(db)), "crawl indexed without the dict"

    found = json.loads(tingfeng(cfg, "search", LANDMARK, "--json").stdout)
    assert found["total"] == 1
    assert found["hits"][0]["post"]["title"] == "梧桐区关于梧溪古渡景区临时封闭的通告"
    assert "<mark>梧溪古渡</mark>" in found["hits"][0]["snippet"]
    # The gazetteer tagged it in the crawl process, and the region facet shows it.
    assert found["facets"]["region"] == [["梧桐区", 1]]


def test_gazetteer_names_stay_whole_and_imports_are_tagged(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    text = "桐岭镇自来水有毒？青石板街也停水了"
    assert "桐岭镇" not in cut(text)  # the bundled dictionary splits it
    tokens = tingfeng(cfg, "tokenize", text, "--json").stdout
    assert {"桐岭镇", "青石板街"} <= set(json.loads(tokens))

    posts = tmp_path / "posts.jsonl"
    now = datetime(2026, 11, 20, 9, 0, tzinfo=CST).isoformat()
    lines = [
        {"id": "bbs:1", "source": "bbs", "native_id": "1", "text": text, "created_at": now},
        {"id": "bbs:2", "source": "bbs", "native_id": "2", "kind": "reply", "text": "真的假的？",
         "created_at": now, "parent_id": "bbs:1", "root_id": "bbs:1"},
        {"id": "bbs:3", "source": "bbs", "native_id": "3", "text": "落霞渡口今天风好大",
         "created_at": now},
        {"id": "bbs:4", "source": "bbs", "native_id": "4", "text": "今天天气不错",
         "created_at": now},
    ]  # fmt: skip
    posts.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in lines), "utf-8")
    tingfeng(cfg, "import", "jsonl", str(posts))

    ced = tmp_path / "ced"
    write_event(ced, 1, text="云栖坊发生火灾，已有多人受伤")
    tingfeng(cfg, "import", "ced", str(ced))

    db = tmp_path / "data" / "t.db"
    with sqlite3.connect(db) as con:
        tags = {
            i: json.loads(doc)["region_tags"]
            for i, doc in con.execute(
                "SELECT p.id, d.doc FROM posts p JOIN post_docs d USING(rowid)"
            )
        }
    assert tags["bbs:1"] == ["梧桐区"]
    assert tags["bbs:2"] == ["梧桐区"]  # a reply naming no place inherits its thread's
    assert tags["bbs:3"] == ["落霞县"]
    assert tags["bbs:4"] == []
    ced_source = next(i for i in tags if i.startswith("ced:") or i.startswith("weibo:"))
    assert tags[ced_source] == ["落霞县"]
    assert any("桐岭镇" in t for t in fts_tokens(db)) and any("云栖坊" in t for t in fts_tokens(db))
    found = json.loads(tingfeng(cfg, "search", "停水", "--region", "梧桐区", "--json").stdout)
    assert found["total"] == 1


def test_incident_keywords_keep_place_names(tmp_path: Path) -> None:
    from nlp.incidents import content_tokens
    from tingfeng.bootstrap import bootstrap

    app = bootstrap(write_config(tmp_path), environ={})
    assert "落霞渡口" in content_tokens("落霞渡口附近发现可疑人员")
    assert LANDMARK in content_tokens(f"{LANDMARK}景区今日封闭")
    assert app.config.nlp.user_dict == [(tmp_path / "dict" / "places.txt").resolve()]


def test_a_store_folder_that_cannot_exist_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("", "utf-8")
    cfg = write_config(tmp_path, store={"path": str(tmp_path / "afile" / "sub" / "t.db")})
    posts = tmp_path / "p.jsonl"
    posts.write_text('{"id": "a:1", "source": "a", "native_id": "1", "text": "x",'
                     ' "created_at": "2026-11-20T09:00:00+08:00"}\n', "utf-8")  # fmt: skip
    proc = tingfeng(cfg, "import", "jsonl", str(posts), check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("错误：store.path: ")
    assert f"无法创建文件夹 {tmp_path / 'afile' / 'sub'}" in proc.stderr
    assert "Traceback" not in proc.stderr
