"""Incident clustering against gold story labels on four fictional cities' evenings.

    nice .venv/bin/python bench/eval_clustering.py [--cache DIR] [--detail] [--json]

Runs the real detection pass (``nlp.detect.run_detect``, what ``tingfeng detect`` runs) in a
fresh SQLite store, one pass every few minutes with the reference clock, over:

* 澜州 (``tests/files/wanghu/``): several unrelated stories in 望湖街道 around 望湖化工园,
  望湖路 and 望湖中学 at the same hour (heating complaint, chemical-park smell rumor, a
  crash, a school notice, chatter); written for this check, never used to tune;
* 鹭川 (``tests/files/crawler/luchuan/``): crawled through the real Scrapy engine from the
  recorded pages, posts arriving three minutes after they were written; stories labelled
  below (``LUCHUAN_STORIES``) from the pages' content;
* 江屿 (the demo, ``tingfeng/demo/jiangyu.yaml``): crawled from the story server at 23:59;
  the rumor arc is one story, the entries of ``JIANGYU_STORIES`` are labelled below, every
  other entry (a thread, an article, a Weibo post with its reposts and comments, a message
  with its reply) its own;
* 澄川 (``tests/hot/test_city_evening.py``): eight ordinary days and the evening rumor;
  gold = the rumor (with its 情况通报), else the ordinary template (the same recurring
  complaint in near-identical words, which the detector joins within its 72-hour window).
  Passes from day 6, as the test runs.

Per city: B-cubed and pairwise precision / recall of incidents against stories, gold
stories split over several incidents, posts merged into an incident whose majority is
another story, and the purity of the rumor's incident. ``--cache DIR`` keeps the crawled
posts of 鹭川 and 江屿 so reruns skip the crawls; ``--detail`` prints every incident that
mixes stories and every split story.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import Post  # noqa: E402
from tests.hot import cities  # noqa: E402

# -- gold stories by root post (native ids); every other root is its own story ---------------
# Labelled by reading the posts: one story = one happening or one problem at one place
# (a complaint and the office's answer to it, a report and its copies). Two questions that
# only name the same place (云台山 open this weekend? / free tickets for the elderly?) are
# two stories.
LUCHUAN_STORIES = {
    # 城管 "beat an elderly vendor to death" at 鼓楼广场: the claims, questions, rebuttals
    "rumor": [
        "thread-8801",
        "5101",
        "7001",
        "5100000000000001",
        "5100000000000002",
        "5100000000000003",
        "5100000000000004",
        "5100000000000010",
        "LC202606120004",
    ],
    # 江南大道 / 新港镇 road works: the jam, the noise, the notice (portal and gov mirror)
    "roadworks": ["thread-8802", "5102", "LC202606110002", "5100000000000005"],
    # 翠湖小区 without water for three days (forum and board)
    "water": ["thread-8804", "LC202606120003"],
    # taxis taking detours at 鹭川东站, and the crackdown on it
    "taxi": ["thread-8806", "5104"],
    # food-safety checks of the night-market stalls (portal and district)
    "nightmarket": ["5202", "7002"],
}
JIANGYU_STORIES = {  # the rumor arc is labelled by the story file itself (``arc: rumor``)
    "wanghai-roadworks": ["thread-30001", "JY202609100001"],
    "donghu-roadworks": ["5200000363380000", "81002", "JY202609100002", "5200000365070000"],
    "teachers-award": ["81001", "5200000363425000"],
    "fishball": ["5200000363480000", "thread-30006", "5200000363590000"],
    "facade": ["5200000363640000", "JY202609100005", "thread-30011"],
    "elevator": ["JY202609100003", "5200000363710000", "thread-30005"],
    "oranges": ["81003", "5200000363750000", "thread-30008"],
    "typhoon": ["81005", "5200000363930000"],
    "park-lights": ["5200000364040000", "81006", "thread-30007", "JY202609110003"],
    "night-order": ["5200000363825000", "81009", "5200000365025000"],
    "taxi-north": ["thread-30009", "5200000364750000", "81007", "5200000364800000",
                   "JY202609110001"],
    "market-reopen": ["thread-30010", "5200000364890000", "81008", "5200000364940000"],
    "exam": ["thread-30012", "5200000365140000"],
    "wetland": ["thread-30013", "5200000365260000"],
    "donghu-crash": ["thread-30014", "5200000365405000", "5200000365450000"],
    "bus": ["thread-30015", "JY202609110004"],
    "music-night": ["5200000365535000", "JY202609110007"],
}  # fmt: skip


def _native_root(post: Post) -> str:
    """The native id of a post's root (a gov feed's ``.../art/7001.html`` → ``7001``)."""
    nid = (post.root_id or post.id).split(":", 1)[1]
    return re.sub(r"^.*/(?:art/|content_)(\d+)\.html$", r"\1", nid)


def _gold(posts: list[Post], stories: dict[str, list[str]]) -> dict[str, str]:
    labels = {nid: story for story, nids in stories.items() for nid in nids}
    return {p.id: labels.get(_native_root(p), f"root:{_native_root(p)}") for p in posts}


def metrics(incidents: dict[str, str | None], gold: dict[str, str]) -> dict:
    """B-cubed and pairwise precision/recall, splits and foreign posts."""
    inc = {p: incidents.get(p) or f"none:{p}" for p in gold}
    by_inc: dict[str, list[str]] = {}
    by_story: dict[str, list[str]] = {}
    for p in gold:
        by_inc.setdefault(inc[p], []).append(p)
        by_story.setdefault(gold[p], []).append(p)
    bp = br = 0.0
    for p in gold:
        same_inc = by_inc[inc[p]]
        same_story = by_story[gold[p]]
        both = sum(1 for q in same_inc if gold[q] == gold[p])
        bp += both / len(same_inc)
        br += both / len(same_story)
    n = len(gold)
    pairs_inc = sum(len(v) * (len(v) - 1) // 2 for v in by_inc.values())
    pairs_story = sum(len(v) * (len(v) - 1) // 2 for v in by_story.values())
    pairs_both = sum(
        c * (c - 1) // 2 for v in by_inc.values() for c in Counter(gold[p] for p in v).values()
    )
    split = {s: len({inc[p] for p in ps}) for s, ps in by_story.items()}
    foreign = 0
    mixed = 0
    for posts in by_inc.values():
        counts = Counter(gold[p] for p in posts)
        foreign += len(posts) - counts.most_common(1)[0][1]
        mixed += len(counts) > 1
    return {
        "posts": n,
        "stories": len(by_story),
        "incidents": len(by_inc),
        "b3_precision": round(bp / n, 3),
        "b3_recall": round(br / n, 3),
        "pair_precision": round(pairs_both / pairs_inc, 3) if pairs_inc else 1.0,
        "pair_recall": round(pairs_both / pairs_story, 3) if pairs_story else 1.0,
        "stories_split": sum(1 for v in split.values() if v > 1),
        "incidents_mixed": mixed,
        "foreign_posts": foreign,
    }


def rumor_purity(incidents: dict[str, str | None], gold: dict[str, str], story: str) -> float:
    """Share of the rumor's main incident (the one most of its posts are in) that is rumor."""
    main = Counter(incidents[p] for p, s in gold.items() if s == story).most_common(1)[0][0]
    members = [p for p in gold if incidents.get(p) == main]
    return round(sum(1 for p in members if gold[p] == story) / len(members), 3)


def detail(name: str, posts: list[Post], incidents: dict[str, str | None], gold: dict) -> None:
    by_id = {p.id: p for p in posts}
    by_inc: dict[str, list[str]] = {}
    for p in gold:
        by_inc.setdefault(incidents.get(p) or "none", []).append(p)
    for inc, members in sorted(by_inc.items()):
        counts = Counter(gold[p] for p in members)
        if len(counts) < 2:
            continue
        print(f"  [{name}] mixed {inc}: {dict(counts)}")
        for p in members:
            post = by_id[p]
            if post.root_id in (None, post.id):
                print(f"      {gold[p]:<12} {(post.title or '') + ' ' + post.text[:60]!r}")
    for story in sorted(set(gold.values())):
        incs = Counter(incidents.get(p) for p, s in gold.items() if s == story)
        if len(incs) > 1:
            print(f"  [{name}] split {story}: {dict(incs)}")


# -- the cities -------------------------------------------------------------------------------
def wanghu(tmp: Path) -> tuple[list[Post], dict[str, str | None], dict[str, str]]:
    posts, gold = cities.wanghu()
    day = datetime.fromisoformat("2026-11-20T18:00:00+08:00")
    incidents = cities.run_evening(posts, tmp / "wanghu.db", day, day + timedelta(hours=6))
    return posts, incidents, gold


def _crawl(config: Path, at: str) -> list[Post]:
    from store.base import PostFilter
    from store.sqlite import SQLiteStore
    from tests.crawler.conftest import run_crawl

    run_crawl(config, sets=(f"TINGFENG_NOW={at}",), timeout=300)
    db = config.parent / "tingfeng.db"
    with SQLiteStore(db) as store:
        return list(store.iter_posts(PostFilter()))


def _cached(cache: Path | None, name: str, make) -> list[Post]:
    if cache is not None and (cache / f"{name}.jsonl").is_file():
        lines = (cache / f"{name}.jsonl").read_text("utf-8").splitlines()
        return [Post.model_validate_json(line) for line in lines if line]
    posts = make()
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / f"{name}.jsonl").write_text(
            "".join(p.model_dump_json() + "\n" for p in posts), "utf-8"
        )
    return posts


def _live(posts: list[Post]) -> list[Post]:
    """As collected live: three minutes after writing, no incident yet."""
    return [
        p.model_copy(update={"fetched_at": p.created_at + timedelta(minutes=3),
                             "incident_id": None})
        for p in posts
    ]  # fmt: skip


def luchuan(tmp: Path, cache: Path | None):
    from tests.crawler.conftest import FAST, SERVER
    from tests.crawler.test_unseen_city import AT, CITY, CONFIG

    def make() -> list[Post]:
        proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--root", str(CITY)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout is not None
            base = f"http://127.0.0.1:{int(proc.stdout.readline())}"
            text = (
                CONFIG.replace("BASE", base)
                .replace("DB", str(tmp / "luchuan" / "tingfeng.db"))
                .replace("CRAWLER", json.dumps(FAST))
            )
            (tmp / "luchuan").mkdir()
            config = tmp / "luchuan" / "tingfeng.yaml"
            config.write_text(text, "utf-8")
            return _crawl(config, AT)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    posts = _live(_cached(cache, "luchuan", make))
    _gazetteer_words(CONFIG)
    gold = _gold(posts, LUCHUAN_STORIES)
    start = datetime.fromisoformat("2026-06-09T00:00:00+08:00")
    end = datetime.fromisoformat("2026-06-12T23:59:00+08:00")
    incidents = cities.run_evening(posts, tmp / "luchuan.db", start, end, timedelta(minutes=10))
    return posts, incidents, gold


def _gazetteer_words(config_text: str) -> None:
    """The city's names in the tokeniser, as ``tingfeng detect`` boots with them."""
    import yaml

    from text.gazetteer import tagger_for

    tagger_for(yaml.safe_load(config_text.replace("CRAWLER", "{}"))["gazetteer"])


def jiangyu(tmp: Path, cache: Path | None):
    from tests.crawler.conftest import run_crawl  # noqa: F401 (the crawl helper)
    from text.gazetteer import tagger_for
    from tingfeng.demo.clock import ManualClock
    from tingfeng.demo.config import post_id, write_demo_config
    from tingfeng.demo.server import StoryServer
    from tingfeng.demo.story import load_story

    story = load_story()
    end = story.at("23:59")

    def make() -> list[Post]:
        with StoryServer(story, ManualClock(end)) as server:
            config = write_demo_config(tmp / "jiangyu" / "tingfeng.yaml", server.base_url,
                                       tmp / "jiangyu")  # fmt: skip
            return _crawl(config, end.isoformat())

    posts = _live(_cached(cache, "jiangyu", make))
    tagger_for(story.districts)
    arc = {post_id(i): i.arc for i in story.items}
    gold = _gold(posts, JIANGYU_STORIES)
    gold = {p.id: arc.get(p.id) or arc.get(p.root_id or "") or gold[p.id] for p in posts}
    start = story.at("00:00", days=-1)
    incidents = cities.run_evening(posts, tmp / "jiangyu.db", start, end, timedelta(minutes=10))
    return posts, incidents, gold


def chengchuan(tmp: Path):
    from tests.hot import test_city_evening as ev

    rng = random.Random(8)
    ordinary = ev.ordinary_days(rng, 8)
    rumor, _ = ev.rumor_evening(rng)
    templates = [re.compile("^" + re.escape(t).replace(r"\{n\}", r"\d+") + "$")
                 for _, t, _ in ev.ORDINARY]  # fmt: skip
    gold: dict[str, str] = {p.id: "rumor" for p in rumor}
    roots = {p.id: p for p in ordinary if p.root_id is None}
    for p in ordinary:
        root = roots[p.root_id or p.id]
        n = next(i for i, t in enumerate(templates) if t.match(root.text))
        gold[p.id] = f"t{n}"
    start = ev.DAY0 + timedelta(days=6)
    end = ev.EVENING + timedelta(hours=3)
    posts = ordinary + rumor
    incidents = cities.run_evening(posts, tmp / "chengchuan.db", start, end, timedelta(minutes=10))
    # Posts older than the first pass's look-back are history (never assigned): not scored.
    gold = {p: s for p, s in gold.items() if incidents.get(p)}
    return posts, incidents, gold


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, help="keep the crawled posts here")
    parser.add_argument("--detail", action="store_true", help="print mixed and split incidents")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--only", nargs="*", help="cities to run (wanghu luchuan jiangyu chengchuan)"
    )
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        runs = {
            "澜州 wanghu": lambda: wanghu(tmp),
            "鹭川 luchuan": lambda: luchuan(tmp, args.cache),
            "江屿 jiangyu": lambda: jiangyu(tmp, args.cache),
            "澄川 chengchuan": lambda: chengchuan(tmp),
        }
        for name, run in runs.items():
            if args.only and name.split()[1] not in args.only:
                continue
            t0 = time.process_time()
            posts, incidents, gold = run()
            row = metrics(incidents, gold)
            rumor = "smell" if "wanghu" in name else "rumor"
            row["rumor_purity"] = rumor_purity(incidents, gold, rumor)
            row["cpu_s"] = round(time.process_time() - t0, 1)
            rows[name] = row
            if args.detail:
                detail(name, posts, incidents, gold)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    cols = ["posts", "stories", "incidents", "b3_precision", "b3_recall", "pair_precision",
            "pair_recall", "stories_split", "incidents_mixed", "foreign_posts",
            "rumor_purity"]  # fmt: skip
    heads = ["posts", "stories", "incid.", "B3 P", "B3 R", "pair P", "pair R", "split",
             "mixed", "foreign", "rumor pur."]  # fmt: skip
    print(f"{'city':<16}" + "".join(f"{h:>9}" for h in heads))
    for name, row in rows.items():
        print(f"{name:<16}" + "".join(f"{row[c]!s:>9}" for c in cols))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
