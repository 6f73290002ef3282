"""Draft on alert (``alerting.drafts``): the alerting pass leaves a rebuttal draft waiting
for every open alert on a likely rumor, once, and says so in the alert's history."""

from __future__ import annotations

from datetime import timedelta

import pytest

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


def test_the_automatic_draft_follows_its_incident_until_a_person_edits_it(city_store, city_config):
    """Drafted when the alert opened (30 minutes in), the text is drafted again as posts
    come in, once per change; after an officer's edit it is left alone, and the officer
    can still ask for it (the replaced text kept in the history)."""
    from tingfeng.services import bulletins

    made = draft_on_alerts(city_store, city_config, at(30))
    first = city_store.get_record(Bulletin, made[0])
    early_posts = first.facts["context"]["spread"]["posts"]
    assert draft_on_alerts(city_store, city_config, at(31)) == []
    assert city_store.get_record(Bulletin, first.id).version == first.version  # nothing new

    draft_on_alerts(city_store, city_config, NOW)
    later = city_store.get_record(Bulletin, first.id)
    assert later.version == first.version + 1
    assert later.facts["context"]["spread"]["posts"] > early_posts
    assert [e["action"] for e in later.history] == ["draft", "refresh"]
    assert later.history[-1]["previous"]["body"] == first.body

    edited = bulletins.edit(
        city_store, first.id, by="李明", now=NOW, body=later.body + "\n（李明补充）"
    )
    draft_on_alerts(city_store, city_config, NOW + timedelta(hours=1))
    assert city_store.get_record(Bulletin, first.id).body == edited.body  # a person's text

    later_at = NOW + timedelta(hours=1)
    asked = bulletins.refresh(city_store, city_config, first.id, by="李明", now=later_at)
    assert asked is not None and asked.history[-1]["previous"]["body"] == edited.body
    again = bulletins.refresh(city_store, city_config, first.id, by="李明", now=later_at)
    assert again is None  # the incident holds nothing new since
    bulletins.submit(city_store, first.id, by="李明", now=later_at)
    with pytest.raises(bulletins.BulletinServiceError, match="只有草稿"):
        bulletins.refresh(city_store, city_config, first.id, by="李明", now=later_at)
    draft_on_alerts(city_store, city_config, later_at)  # a submitted draft: left alone


def test_an_appeal_alert_gets_a_reply_draft_not_a_rebuttal(city_store, city_config):
    """The resident's complaint scores high for rumor (a single forum or board post often
    does): its alert, opened by the direct-appeal rule, gets a 回应 draft."""
    from models import BulletinKind, Incident

    inc = city_store.get_record(Incident, "inc-lz-2")
    city_store.save_record(inc.model_copy(update={"rumor_score": 0.89}))
    alert = city_store.get_record(Alert, "alert-lz-2")
    city_store.save_record(alert.model_copy(update={"rule": "直接诉求"}))
    draft_on_alerts(city_store, city_config, NOW)
    (draft,) = city_store.list_records(Bulletin, limit=10, incident_id="inc-lz-2")
    assert draft.bulletin_kind == BulletinKind.RESPONSE
    (rumor,) = city_store.list_records(Bulletin, limit=10, incident_id="inc-lz-1")
    assert rumor.bulletin_kind == BulletinKind.REBUTTAL
