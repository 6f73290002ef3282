"""Small CED-layout directories made on the fly, with the mess the real data has."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

#: 1400000000 (the default source time) in Beijing time.
BASE = datetime(2014, 5, 14, 0, 53, 20)


def write_event(
    root: Path,
    n: int,
    *,
    label: str | None = "rumor",
    text: str = "网传东城区发生爆炸，已有多人死亡",
    time: object = 1400000000,
    reposts: list[dict] | None = None,
    user: object = None,
) -> str:
    event = f"{n}_Mid{n:04d}_{1000 + n}"
    (root / "original-microblog").mkdir(parents=True, exist_ok=True)
    source = {
        "text": text,
        "time": time,
        "reposts": 10,
        "comments": 3,
        "likes": 1,
        "pics": 0,
        "source": "微博 weibo.com",
        "has_url": False,
        "user": user
        if user is not None
        else {
            "verified": n % 2 == 0,
            "verified_type": -1,
            "followers": 100 * n,
            "friends": 10,
            "messages": 50,
            "gender": "m",
            "location": "四川 德阳",
            "description": True,
            "time": 1300000000,
        },
    }
    (root / "original-microblog" / f"{event}.json").write_text(
        json.dumps(source, ensure_ascii=False), "utf-8"
    )
    if label is not None:
        folder = root / ("rumor-repost" if label == "rumor" else "non-rumor-repost")
        folder.mkdir(parents=True, exist_ok=True)
        items = reposts if reposts is not None else default_reposts(n)
        (folder / f"{event}.json").write_text(json.dumps(items, ensure_ascii=False), "utf-8")
    return event


def default_reposts(n: int, count: int = 5) -> list[dict]:
    out = []
    for i in range(count):
        out.append(
            {
                "mid": f"R{n}x{i}",
                "uid": str(5000 + i),
                "parent": f"R{n}x{i - 1}" if i % 2 else "",
                "kids": [],
                "text": "真的吗？求证" if i % 2 else "",
                "date": (BASE + timedelta(minutes=7 * i + 1)).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return out
