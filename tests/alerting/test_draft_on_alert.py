"""Draft on alert (``alerting.drafts``): the alerting pass leaves a rebuttal draft waiting
for every open alert on a likely rumor, once, and says so in the alert's history."""

from __future__ import annotations

from models import Alert, Bulletin, BulletinKind
from tests.alerting.city import at
from tingfeng.services.alerts import draft_on_alerts

NOW = at(120)


def test_a_rumor_alert_gets_one_rebuttal_draft(city_store, city_config):
    made = draft_on_alerts(city_store, city_config, NOW)
    assert len(made) == 1
    draft = city_store.get_record(Bulletin, made[0])
    assert draft.incident_id == "inc-lz-1"
    assert draft.bulletin_kind == BulletinKind.REBUTTAL
    assert draft.drafted_by == "tingfeng" and draft.status.value == "draft"
    assert draft.placeholders  # facts the office must confirm are left as [待核实]
    alert = city_store.get_record(Alert, "alert-lz-1")
    event = [e for e in alert.history if e.action == "drafted"]
    assert len(event) == 1 and event[0].detail["bulletin_id"] == draft.id
    assert "辟谣声明" in event[0].text
    # the complaint (no rumor score) gets none; a second pass drafts nothing again
    assert not city_store.list_records(Bulletin, limit=10, incident_id="inc-lz-2")
    assert draft_on_alerts(city_store, city_config, NOW) == []
    assert len(city_store.list_records(Bulletin, limit=10, incident_id="inc-lz-1")) == 1


def test_drafts_follow_the_configuration(city_store, city_config):
    city_config.alerting.drafts.enabled = False
    assert draft_on_alerts(city_store, city_config, NOW) == []
    city_config.alerting.drafts.enabled = True
    city_config.alerting.drafts.rumor_min = 0.95  # inc-lz-1 scores 0.91
    assert draft_on_alerts(city_store, city_config, NOW) == []
    city_config.alerting.drafts.rumor_min = 0.5
    city_config.alerting.drafts.tiers = []
    assert draft_on_alerts(city_store, city_config, NOW) == []
    assert not city_store.list_records(Bulletin, limit=10, incident_id="inc-lz-1")
