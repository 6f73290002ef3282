"""Unrelated stories that share a street and its landmarks stay apart, and each stays whole.

澜州市's evening (tests/files/wanghu/, written before the clustering rule it checks and
never used to tune it): in 望湖街道 at the same hours a heating complaint of 锦绣小区, the
rumor that 望湖化工园 leaks toxic gas, a crash on 望湖路, a 望湖中学 notice and one-off
chatter naming the same places (a lost cat near 锦绣小区, a repair shop moving from 望湖路
to 滨湖大道). The real detection pass, every five minutes, must give one incident per story,
with reposts that only say "望湖化工园那事" in the rumor's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from models import Incident
from store.sqlite import SQLiteStore
from tests.hot import cities

START = datetime.fromisoformat("2026-11-20T18:00:00+08:00")


def test_stories_of_one_street_stay_apart_and_whole(tmp_path: Path) -> None:
    posts, gold = cities.wanghu()
    incidents = cities.run_evening(posts, tmp_path / "s.db", START, START + timedelta(hours=6))
    by_story, by_incident = cities.stories(incidents, gold)
    mixed = {inc: sorted(s) for inc, s in by_incident.items() if len(s) > 1}
    split = {story: len(incs) for story, incs in by_story.items() if len(incs) > 1}
    assert not mixed, mixed
    assert not split, split
    # The rumor's incident is the rumor's: its category is not the heating complaint's.
    smell = next(iter(by_story["smell"]))
    with SQLiteStore(tmp_path / "s.db") as store:
        record = store.get_record(Incident, smell)
    assert record is not None and record.category != "民生诉求", record.category
    assert record.district == "湖滨区"
