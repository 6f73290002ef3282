"""鹭川市 (tests/files/crawler/luchuan/, never used to tune the detector) crawled through the
real Scrapy engine, then its evening stepped through as it would have arrived live.

The crawl runs once, at 23:00 (tests/crawler/test_unseen_city.py's fixture). Its posts go to
a fresh store either as crawled (every one collected at 23:00) or as if each had been
collected three minutes after it was written; detection passes then run every five minutes
from 18:00 to midnight with the reference clock. Either way, the rumor that 城管 beat an
elderly vendor to death (a forum thread, Weibo posts and their reposts, doubted and
rebutted) becomes hot during the evening, by the burst of several source posts; nothing
else of the city does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from models import Incident
from nlp.detect import run_detect
from nlp.hot_config import HotConfigSection
from store.sqlite import SQLiteStore
from tests.crawler.test_unseen_city import CONFIG, city_server, crawl  # noqa: F401 (fixtures)
from text.gazetteer import tagger_for

START = datetime.fromisoformat("2026-06-12T18:00:00+08:00")
RUMOR_START = datetime.fromisoformat("2026-06-12T19:40:00+08:00")
#: Source posts of the rumor's story (native ids; the gov feed's by page name).
RUMOR_ROOTS = {
    "thread-8801", "5101", "7001.html", "LC202606120004",
    *(f"51000000000000{n:02d}" for n in (1, 2, 3, 4, 10)),
}  # fmt: skip


@pytest.mark.parametrize("arrival", ["one-late-crawl", "live"])
def test_the_rumor_goes_hot_in_its_evening_and_nothing_else(
    crawl: dict[str, Any],  # noqa: F811
    tmp_path: Path,
    arrival: str,
) -> None:
    live = [
        p.model_copy(update={"fetched_at": p.created_at + timedelta(minutes=3)})
        if arrival == "live"
        else p
        for p in crawl["posts"]
    ]
    if arrival != "live":
        assert min(p.fetched_at for p in live) > START + timedelta(hours=4)
    rumor = [p for p in live if "打死" in p.text and "不实" not in p.text]
    assert len(rumor) >= 3
    # The city's names in the tokeniser, as `tingfeng detect` boots with its gazetteer.
    tagger_for(yaml.safe_load(CONFIG.replace("CRAWLER", "{}"))["gazetteer"])
    config = HotConfigSection(score_rumors=False)
    first_hot: dict[str, datetime] = {}
    with SQLiteStore(tmp_path / "live.db") as store:
        store.upsert_posts(live)
        at = START
        while at <= START + timedelta(hours=6):
            report = run_detect(store, config, now=at)
            for inc in report.notify:
                first_hot.setdefault(inc, at)
            at += timedelta(minutes=5)
        rumor_incident = store.get_post(rumor[0].id).incident_id
        record = store.get_record(Incident, rumor_incident)
        # Pure: only the rumor's own posts (claims, questions, rebuttals); the complaint
        # about vendors blocking 鼓楼广场's pavement shares the square, not the story.
        stall = store.get_post("lc-board:LC202606120005")
    assert stall is not None and stall.incident_id != rumor_incident
    assert record is not None
    roots = {r.split(":", 1)[1].rsplit("/", 1)[-1] for r in record.root_ids}
    assert roots <= RUMOR_ROOTS, roots - RUMOR_ROOTS
    assert list(first_hot) == [rumor_incident]
    assert RUMOR_START < first_hot[rumor_incident] <= RUMOR_START + timedelta(hours=2)
    assert record is not None and record.extra["first_hot_reasons"][0].startswith("突发：")
    assert "条源帖" in record.extra["first_hot_reasons"][0]
