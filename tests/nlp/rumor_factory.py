"""Synthetic CED-layout directories with a learnable rumor signal, for fast CLI tests."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.ingest.cedfactory import BASE, write_event

RUMOR_TEXTS = (
    "网传{p}化工厂爆炸，已有多人死亡，速转！",
    "紧急扩散：{p}自来水有毒，千万不要喝！",
    "{p}小学门口有人贩子抢孩子，家长注意！",
    "惊！{p}城管打死小贩，现场惨不忍睹",
)
NEWS_TEXTS = (
    "【{p}发布】地铁三号线今日恢复运营，市民出行请留意公告",
    "【{p}发布】本周末举行义务献血活动，欢迎市民参加",
    "【{p}发布】{p}图书馆新馆开放，开放时间为九点至二十一点",
    "【{p}发布】春季植树活动圆满结束，共植树三千株",
)
PLACES = ("东城区", "西江区", "南山县", "北湖区", "青川市", "旌阳区", "罗江区", "中江县")


def _reposts(n: int, rumor: bool, count: int = 8) -> list[dict]:
    words = (
        ("谣言吧，求证", "假的，已辟谣", "真的吗？", "")
        if rumor
        else ("支持", "好消息", "", "点赞")
    )
    out = []
    for i in range(count):
        # Rumors spread in bursts; bulletins trickle. Gives the propagation features a signal.
        minutes = (i * 2 + 1) if rumor else (i * 40 + 5)
        out.append(
            {
                "mid": f"R{n}x{i}",
                "uid": str(7000 + i + n),
                "parent": f"R{n}x{i - 1}" if rumor and i % 2 else "",
                "kids": [],
                "text": words[i % len(words)],
                "date": (BASE + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return out


def make_ced(root: Path, n_events: int = 32, start: int = 1) -> Path:
    """``n_events`` events, half rumors (unverified authors, doubt in reposts), half
    bulletins of verified accounts."""
    for k in range(n_events):
        n = start + k
        rumor = k % 2 == 0
        place = PLACES[(k // 2) % len(PLACES)]
        template = (RUMOR_TEXTS if rumor else NEWS_TEXTS)[(k // 2) % 4]
        user = {
            "verified": not rumor,
            "verified_type": -1 if rumor else 1,
            "followers": 80 + n if rumor else 500000 + n,
            "friends": 300,
            "messages": 40,
            "gender": "m",
            "location": "四川 德阳",
            "description": True,
            "time": 1390000000 if rumor else 1200000000,
        }
        write_event(
            root,
            n,
            label="rumor" if rumor else "non-rumor",
            text=template.format(p=place),
            reposts=_reposts(n, rumor),
            user=user,
        )
    return root


def break_one_file(root: Path) -> Path:
    """Make one source file unreadable JSON; returns its path."""
    victim = sorted((root / "original-microblog").glob("*.json"))[0]
    victim.write_text("{not json", "utf-8")
    return victim


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
