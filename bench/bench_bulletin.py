"""Drafting, Weibo text, .docx and weekly report time on a synthetic incident.

    .venv/bin/python bench/bench_bulletin.py [--posts N]

No target in the issue; the figure says how long an officer waits for a draft of a large
incident (claim grouping, earlier-answer matching and the TextRank summary included).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from models import SHANGHAI, Author, Incident, Post
from store.sqlite import SQLiteStore
from tingfeng.config import Config
from tingfeng.services import bulletins as svc
from tingfeng.services import reports

WORDS = [
    "北塘区",
    "东门",
    "菜市场",
    "城管",
    "老人",
    "打死",
    "视频",
    "现场",
    "警察",
    "医院",
    "围观",
    "群众",
    "摊贩",
    "冲突",
    "受伤",
    "扩散",
    "真相",
    "求证",
    "官方",
    "通报",
    "晚上",
    "路口",
    "堵车",
    "救护车",
]
T0 = datetime(2026, 6, 10, 20, 0, tzinfo=SHANGHAI)


def posts(n: int) -> list[Post]:
    rng = random.Random(1)
    out = []
    for i in range(n):
        kind = ("post", "repost", "comment")[i % 3]
        text = (
            "转发微博"
            if kind == "repost"
            else "".join(rng.choice(WORDS) for _ in range(12))
            + "。"
            + "".join(rng.choice(WORDS) for _ in range(8))
            + "！"
        )
        out.append(
            Post(
                source="weibo",
                native_id=str(i),
                kind=kind,
                text=text,
                created_at=T0 + timedelta(seconds=i * 5),
                author=Author(id=f"u{i}"),
                incident_id="inc-b",
                root_id=None if kind == "post" else "weibo:0",
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "b.db")
        store.upsert_posts(posts(args.posts))
        end = T0 + timedelta(seconds=args.posts * 5)
        store.save_record(
            Incident(id="inc-b", title="北塘区东门菜市场", first_seen=T0, last_seen=end)
        )
        config = Config.model_validate({"office": {"name": "岚州市委网信办"}})
        svc.load_templates(config)
        timings = {}
        t = time.perf_counter()
        bulletin = svc.draft(store, config, "inc-b", now=end, by="bench", kind="rebuttal")
        timings["draft"] = time.perf_counter() - t
        t = time.perf_counter()
        svc.weibo(bulletin)
        svc.export_docx(bulletin, config, Path(tmp) / "b.docx")
        timings["weibo + docx"] = time.perf_counter() - t
        t = time.perf_counter()
        report = reports.build(store, config, "weekly", at=end)
        reports.docx(report, config, Path(tmp) / "w.docx")
        timings["weekly report + docx with charts"] = time.perf_counter() - t
        store.close()
    print(f"incident of {args.posts} posts ({args.posts // 3} with words of their own):")
    for name, seconds in timings.items():
        print(f"  {name:<34} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
