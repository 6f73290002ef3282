"""The demo's story: one evening of 江屿市, read from ``jiangyu.yaml``.

The YAML holds what a person writes (who said what, when, where); this module gives every
piece the ids, users and counts the sites show, so the server can render each site as of
any story time and the tests can say which posts a crawl at that time must store.
Ids grow with time, as the real sites' do (Weibo mids, Discuz pids), so newest-first
lists and incremental crawls behave as they do live.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from models import SHANGHAI

#: Story times in the YAML: "HH:MM" on the story day, "-1 HH:MM" on the day before.
STORY_FILE = "jiangyu.yaml"


class StoryError(ValueError):
    """The story file is wrong; the message names the entry."""


@dataclass(frozen=True)
class User:
    """A Weibo or forum user as the sites show them."""

    uid: str
    name: str
    followers: int = 0
    verified_type: int = -1
    office: bool = False


@dataclass
class Floor:
    pid: int
    at: datetime
    author: User
    text: str
    ad: list[str] = field(default_factory=list)


@dataclass
class Thread:
    tid: int
    title: str
    floors: list[Floor]
    key: str | None = None
    arc: str | None = None

    @property
    def at(self) -> datetime:
        return self.floors[0].at


@dataclass
class Article:
    aid: int
    at: datetime
    title: str
    source: str
    paragraphs: list[str]
    key: str | None = None
    arc: str | None = None


@dataclass
class Blog:
    """A Weibo post, or a repost (``parent`` = the root post's mid, as Weibo keeps it)."""

    mid: int
    at: datetime
    user: User
    text: str
    parent: int | None = None
    key: str | None = None
    arc: str | None = None


@dataclass
class Comment:
    cid: int
    at: datetime
    user: User
    text: str
    mid: int
    reply_to: int | None = None
    arc: str | None = None


@dataclass
class Reply:
    at: datetime
    dept: str
    text: str


@dataclass
class Message:
    msg_id: str
    at: datetime
    author: str
    title: str
    text: str
    reply: Reply | None = None
    key: str | None = None
    arc: str | None = None


@dataclass(frozen=True)
class Item:
    """One post a complete crawl stores, in the crawler's terms."""

    channel: str  # forum | news | weibo | board
    kind: str  # thread reply article post repost comment message
    native_id: str
    at: datetime
    author: str
    author_id: str | None
    text: str
    office: bool = False
    #: the story line it belongs to (``rumor``), None for the city's ordinary chatter
    arc: str | None = None


class Story:
    """The city, its accounts and everything said on its sites, with ids assigned."""

    def __init__(self, data: dict[str, Any]) -> None:
        try:
            self.city: str = data["city"]
            self.day: date = date.fromisoformat(str(data["day"]))
            self.districts: dict[str, list[str]] = dict(data["districts"])
            self.ads: dict[str, list[str]] = dict(data.get("ads") or {})
            self.accounts: dict[str, User] = {
                key: User(
                    uid=str(a["uid"]),
                    name=a["name"],
                    followers=int(a.get("followers", 0)),
                    verified_type=int(a.get("verified_type", -1)),
                    office=bool(a.get("office", False)),
                )
                for key, a in (data.get("accounts") or {}).items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise StoryError(f"story: bad header ({exc})") from None
        self.threads = self._forum(data.get("forum") or [])
        self.articles = self._news(data.get("news") or [])
        self.blogs, self.comments = self._weibo(data.get("weibo") or [])
        self.messages = self._board(data.get("board") or [])

    # -- reading ---------------------------------------------------------------------------
    def time(self, value: Any, where: str) -> datetime:
        """``"HH:MM"`` on the story day or ``"-N HH:MM"`` N days before."""
        text = str(value).strip()
        offset, _, clock = text.rpartition(" ")
        try:
            hour, minute = (int(x) for x in clock.split(":"))
            days = int(offset) if offset else 0
            return datetime(
                self.day.year, self.day.month, self.day.day, hour, minute, tzinfo=SHANGHAI
            ) + timedelta(days=days)
        except ValueError:
            raise StoryError(
                f"{where}: bad time {value!r} (expected 'HH:MM' or '-1 HH:MM')"
            ) from None

    def at(self, hhmm: str, days: int = 0) -> datetime:
        """A story time from code: ``story.at("21:30")``."""
        return self.time(f"{days} {hhmm}" if days else hhmm, "at")

    def weibo_user(self, name: str) -> User:
        if name in self.accounts:
            return self.accounts[name]
        crc = zlib.crc32(name.encode())
        return User(uid=str(5_000_000_000 + crc % 1_000_000_000), name=name,
                    followers=30 + crc % 1500)  # fmt: skip

    @staticmethod
    def forum_user(name: str) -> User:
        return User(uid=str(100_000 + zlib.crc32(b"bbs" + name.encode()) % 900_000), name=name)

    def _forum(self, entries: list[dict[str, Any]]) -> list[Thread]:
        raw: list[tuple[dict[str, Any], list[tuple[datetime, str, str, list[str]]]]] = []
        for n, entry in enumerate(entries):
            where = f"forum[{n}] {entry.get('title', '')!r}"
            floors = [(self.time(entry["at"], where), entry["author"], entry["text"],
                       self._ad(entry.get("ad"), where))]  # fmt: skip
            for reply in entry.get("replies") or []:
                at, author, text, *ad = reply
                floors.append((self.time(at, where), author, text,
                               self._ad(ad[0] if ad else None, where)))  # fmt: skip
            if any(b[0] < a[0] for a, b in pairwise(floors)):
                raise StoryError(f"{where}: replies out of order")
            raw.append((entry, floors))
        # ids grow with time: threads by their first floor, floors across the forum
        all_floors = sorted((f[0], i, j) for i, (_, fl) in enumerate(raw) for j, f in enumerate(fl))
        pids = {(i, j): 600_001 + k for k, (_, i, j) in enumerate(all_floors)}
        order = sorted(range(len(raw)), key=lambda i: raw[i][1][0][0])
        threads = []
        for rank, i in enumerate(order):
            entry, floors = raw[i]
            threads.append(Thread(
                tid=30_001 + rank, title=entry["title"], key=entry.get("key"), arc=entry.get("arc"),
                floors=[Floor(pids[i, j], at, self.forum_user(author), text, ad)
                        for j, (at, author, text, ad) in enumerate(floors)],
            ))  # fmt: skip
        return threads

    def _ad(self, name: str | None, where: str) -> list[str]:
        if not name:
            return []
        if name not in self.ads:
            raise StoryError(f"{where}: unknown ad {name!r}")
        return list(self.ads[name])

    def _news(self, entries: list[dict[str, Any]]) -> list[Article]:
        out = [
            Article(0, self.time(e["at"], f"news[{n}]"), e["title"], e["source"],
                    [p.strip() for p in e["text"].split("\n") if p.strip()], e.get("key"),
                    e.get("arc"))
            for n, e in enumerate(entries)
        ]  # fmt: skip
        out.sort(key=lambda a: a.at)
        for rank, article in enumerate(out):
            article.aid = 81_001 + rank
        return out

    def _weibo(self, entries: list[dict[str, Any]]) -> tuple[list[Blog], list[Comment]]:
        blogs: list[tuple[datetime, int, Blog, int | None]] = []
        comments: list[tuple[datetime, Comment, int | None]] = []
        for n, entry in enumerate(entries):
            where = f"weibo[{n}]"
            root = Blog(0, self.time(entry["at"], where), self.weibo_user(entry["author"]),
                        entry["text"], key=entry.get("key"), arc=entry.get("arc"))  # fmt: skip
            blogs.append((root.at, len(blogs), root, None))
            root_index = len(blogs) - 1
            for at, author, text in entry.get("reposts") or []:
                repost = Blog(0, self.time(at, where), self.weibo_user(author), text,
                              arc=root.arc)  # fmt: skip
                if repost.at < root.at:
                    raise StoryError(f"{where}: repost at {at} before the post")
                blogs.append((repost.at, len(blogs), repost, root_index))
            for at, author, text, *subs in entry.get("comments") or []:
                top = Comment(0, self.time(at, where), self.weibo_user(author), text, 0,
                              arc=root.arc)  # fmt: skip
                comments.append((top.at, top, root_index))
                for sat, sauthor, stext in subs[0] if subs else []:
                    sub = Comment(0, self.time(sat, where), self.weibo_user(sauthor), stext, 0,
                                  arc=root.arc)  # fmt: skip
                    sub.reply_to = id(top)  # resolved below
                    comments.append((sub.at, sub, root_index))
        ordered = sorted(blogs, key=lambda b: (b[0], b[1]))
        per_minute: Counter[datetime] = Counter()
        for at, _, blog, _ in ordered:
            blog.mid = _time_id(5_200_000_000_000_000, at, per_minute[at])
            per_minute[at] += 1
        for _, _, blog, parent in blogs:
            if parent is not None:
                blog.parent = blogs[parent][2].mid
        by_obj: dict[int, Comment] = {}
        per_minute.clear()
        for at, comment, root_index in sorted(comments, key=lambda c: c[0]):
            comment.cid = _time_id(4_200_000_000_000_000, at, per_minute[at])
            per_minute[at] += 1
            comment.mid = blogs[root_index][2].mid
            by_obj[id(comment)] = comment
        for _, comment, _ in comments:
            if comment.reply_to is not None:
                comment.reply_to = by_obj[comment.reply_to].cid
        return [b[2] for b in ordered], sorted((c[1] for c in comments), key=lambda c: c.cid)

    def _board(self, entries: list[dict[str, Any]]) -> list[Message]:
        out = []
        for n, e in enumerate(entries):
            where = f"board[{n}] {e.get('title', '')!r}"
            reply = None
            if e.get("reply"):
                at, dept, text = e["reply"]
                reply = Reply(self.time(at, where), dept, text)
            out.append(Message("", self.time(e["at"], where), e["author"], e["title"],
                               e["text"], reply, e.get("key"), e.get("arc")))  # fmt: skip
        out.sort(key=lambda m: m.at)
        per_day: Counter[date] = Counter()
        for m in out:
            per_day[m.at.date()] += 1
            m.msg_id = f"JY{m.at:%Y%m%d}{per_day[m.at.date()]:04d}"
        return out

    # -- views -----------------------------------------------------------------------------
    @cached_property
    def office_accounts(self) -> list[User]:
        return [u for u in self.accounts.values() if u.office]

    def blog(self, key: str) -> Blog:
        return next(b for b in self.blogs if b.key == key)

    @cached_property
    def items(self) -> list[Item]:
        """Every post a complete crawl stores, oldest first."""
        out: list[Item] = []
        for t in self.threads:
            for n, f in enumerate(t.floors):
                out.append(Item("forum", "reply" if n else "thread",
                                f"post-{f.pid}" if n else f"thread-{t.tid}", f.at,
                                f.author.name, f.author.uid, f.text, arc=t.arc))  # fmt: skip
        for a in self.articles:
            out.append(Item("news", "article", str(a.aid), a.at, a.source, None,
                            "\n".join(a.paragraphs), arc=a.arc))  # fmt: skip
        for b in self.blogs:
            out.append(Item("weibo", "repost" if b.parent else "post", str(b.mid), b.at,
                            b.user.name, b.user.uid, b.text, b.user.office, b.arc))  # fmt: skip
        for c in self.comments:
            out.append(Item("weibo", "comment", f"comment-{c.cid}", c.at, c.user.name,
                            c.user.uid, c.text, c.user.office, c.arc))  # fmt: skip
        for m in self.messages:
            out.append(Item("board", "message", m.msg_id, m.at, m.author, None, m.text,
                            arc=m.arc))  # fmt: skip
            if m.reply:
                out.append(Item("board", "reply", f"{m.msg_id}-reply-1", m.reply.at,
                                m.reply.dept, None, m.reply.text, True, m.arc))  # fmt: skip
        out.sort(key=lambda i: i.at)
        return out

    def visible(self, at: datetime) -> list[Item]:
        """The posts the sites show at story time ``at``."""
        return [i for i in self.items if i.at <= at]

    def busiest_hour(self, arc: str | None = "rumor") -> tuple[datetime, int, int]:
        """The 60 minutes with the most posts of ``arc``: (start, posts, distinct authors)."""
        times = [i for i in self.items if i.arc == arc]
        best = (times[0].at, 0, 0) if times else (self.at("00:00"), 0, 0)
        for n, first in enumerate(times):
            window = [i for i in times[n:] if i.at < first.at + timedelta(hours=1)]
            if len(window) > best[1]:
                best = (first.at, len(window), len({i.author for i in window}))
        return best

    def figures(self) -> dict[str, Any]:
        """Counts for docs and reports: per channel and kind, per day, and per hour of the
        evening for the rumor arc and for everything else."""
        per_kind = Counter(f"{i.channel}/{i.kind}" for i in self.items)
        per_day = Counter(f"{i.at:%Y-%m-%d}" for i in self.items)
        hours: dict[str, dict[str, Counter[str]]] = {}
        for i in self.items:
            if i.at.date() == self.day and i.at.hour >= 18:
                slot = hours.setdefault(f"{i.at:%H}:00", {"rumor": Counter(), "other": Counter()})
                slot["rumor" if i.arc == "rumor" else "other"][i.author] += 1
        evening = {
            h: {"rumor_posts": c["rumor"].total(), "rumor_authors": len(c["rumor"]),
                "other_posts": c["other"].total()}
            for h, c in sorted(hours.items())
        }  # fmt: skip
        start, posts, authors = self.busiest_hour()
        return {
            "total": len(self.items), "per_kind": dict(sorted(per_kind.items())),
            "per_day": dict(sorted(per_day.items())), "evening_per_hour": evening,
            "busiest_rumor_hour": {"start": f"{start:%H:%M}", "posts": posts, "authors": authors},
        }  # fmt: skip


def _time_id(base: int, at: datetime, seq: int) -> int:
    minutes = int((at - datetime(2026, 1, 1, tzinfo=SHANGHAI)).total_seconds() // 60)
    return base + minutes * 1000 + seq


def load_story(path: str | Path | None = None) -> Story:
    """The bundled story (``jiangyu.yaml``), or another story file."""
    if path is None:
        text = resources.files(__package__).joinpath(STORY_FILE).read_text("utf-8")
        where = STORY_FILE
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise StoryError(f"{path}: cannot read ({exc.strerror})") from None
        where = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StoryError(f"{where}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise StoryError(f"{where}: expected a mapping at the top")
    try:
        return Story(data)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, StoryError):
            raise
        raise StoryError(f"{where}: bad entry ({exc!r})") from None
