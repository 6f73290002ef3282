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

from models import Incident
from nlp.detect import run_detect
from nlp.hot_config import HotConfigSection
from store.sqlite import SQLiteStore
from tests.crawler.test_unseen_city import city_server, crawl  # noqa: F401 (fixtures)

START = datetime.fromisoformat("2026-06-12T18:00:00+08:00")
RUMOR_START = datetime.fromisoformat("2026-06-12T19:40:00+08:00")


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
    assert list(first_hot) == [rumor_incident]
    assert RUMOR_START < first_hot[rumor_incident] <= RUMOR_START + timedelta(hours=2)
    assert record is not None and record.extra["first_hot_reasons"][0].startswith("突发：")
    assert "条源帖" in record.extra["first_hot_reasons"][0]
