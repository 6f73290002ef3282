"""A detection pass stepped with ``--at`` links the office's answer as the worker does, so
``tingfeng detect --at T`` then ``tingfeng alerts run --at T`` meets the alert's clock at
the time of the official post (before, only the worker and ``bulletin responses`` linked
it, and a stepped evening escalated the tier I alert six times after the 情况通报)."""

from __future__ import annotations

from datetime import timedelta

from models import Alert, OfficialResponse
from tests.alerting.city import ANSWER_AT, GOV, NOW, T0
from tingfeng.services import detect as detect_svc


def test_a_detection_pass_links_the_official_answer_once(city_store, city_config) -> None:
    def rumor(ids: list[str]) -> list[str]:
        return [i for i in ids if i.startswith("inc-lz-1:")]

    before = detect_svc.detect(city_config, city_store, at=ANSWER_AT - timedelta(minutes=1))
    assert rumor(before.responses) == []  # the answer is not written by then
    result = detect_svc.detect(city_config, city_store, at=NOW)
    assert rumor(result.responses), "the 22:10 情况通报 of the city account is linked"
    linked = city_store.list_records(OfficialResponse, limit=100, incident_id="inc-lz-1")
    assert GOV in {r.author for r in linked}
    assert min(r.posted_at for r in linked) == ANSWER_AT
    again = detect_svc.detect(city_config, city_store, at=NOW + timedelta(minutes=10))
    assert again.responses == []  # linked once


def test_stepped_detect_then_alerts_meets_the_first_response(
    city_store, city_config, tmp_path
) -> None:
    from tingfeng.services.alerts import load_runtime, run_pass

    runtime = load_runtime(city_config)
    step = T0 + timedelta(minutes=30)
    while step <= NOW:
        detect_svc.detect(city_config, city_store, at=step)
        run_pass(city_store, runtime, step, send=False)
        step += timedelta(minutes=30)
    (alert,) = city_store.list_records(Alert, limit=100, incident_id="inc-lz-1")
    first = alert.deadline("first_response")
    assert first.met_at == ANSWER_AT, alert.history
    assert [h.actor for h in alert.history if h.action == "responded"] == ["回应追踪"]
