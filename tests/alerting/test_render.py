"""What an alert says: claim quoted, where, how fast, why, tier, deadlines, rumor score,
earlier rebuttal, department, link — in Simplified Chinese."""

from __future__ import annotations

from datetime import timedelta

from alerting.channels.base import split_lines
from alerting.engine import AlertEngine
from models import Bulletin, BulletinStatus, OutboxMessage
from tests.alerting.support import T0, incident, put, webhook_config


def test_created_message_says_everything(store, policy, clock):
    store.save_record(
        Bulletin(
            id="b-2025-07",
            title="关于网传“城管围殴摊贩致死”的情况通报",
            body="网传临江区滨江路四名城管围殴摊贩致其死亡，经核实系肢体冲突，无人员死亡。",
            status=BulletinStatus.PUBLISHED,
            drafted_by="王芳",
            approved_by="李明",
            published_at=T0 - timedelta(days=200),
            published_url="https://weibo.example/qc_gov/2025-07",
        )
    )
    inc = incident(
        heat=85,
        rumor_score=0.83,
        extra={"rumor_reasons": ["含“网传”“求真相”等求证词", "无信源", "情绪化表达"]},
    )
    put(store, inc)
    eng = AlertEngine(
        store, policy, webhook_config("http://127.0.0.1:9", base_url="https://yq.qc.example/")
    )
    eng.run(clock())
    msg = next(m for m in store.list_records(OutboxMessage) if m.channel == "duty")
    from alerting.render import AlertText

    text = "\n".join(AlertText.model_validate(msg.content).plain_lines())
    assert text.startswith("【新预警·Ⅰ级红色】临江区滨江路城管与摊贩冲突")
    assert "传言：「网传临江区滨江路四名城管围殴摊贩致其死亡，现场有视频，求真相！」" in text
    assert "地点：临江区（滨江路）" in text
    assert "近1小时 12 帖/小时、转发 36 次/小时，趋势上升；累计 40 帖，热度 85.0" in text
    assert "原因：规则「热度最高档」：热度进入最高档" in text
    assert "级别：Ⅰ级（特别重大·红色）" in text
    assert "首次回应：03月14日 10:00（剩余 1小时）" in text
    assert "权威信息发布：03月14日 14:00（剩余 5小时）" in text
    assert "新闻发布会/通稿：03月15日 09:00（剩余 1天）" in text
    assert "谣言可能性：0.83；主要依据：含“网传”“求真相”等求证词；无信源；情绪化表达" in text
    assert "既往辟谣：2025-08-26 已有辟谣/通报（相似度" in text
    assert "https://weibo.example/qc_gov/2025-07" in text  # the rebuttal's link
    assert "责任单位：临江区12345热线办（属地：临江区人民政府、主管：临江区12345热线办）" in text
    assert "查看事件详情：https://yq.qc.example/incidents/inc-1" in text


def test_deadline_shows_time_left_and_overdue():
    from alerting.render import deadline_text
    from models import Deadline

    d = Deadline(name="first_response", label="首次回应", hours=2, due=T0)
    assert deadline_text(d, T0 - timedelta(minutes=75)) == "03月14日 09:00（剩余 1小时15分钟）"
    assert deadline_text(d, T0 + timedelta(minutes=5)) == "03月14日 09:00（已超时 5分钟）"


def test_split_keeps_every_character_of_an_overlong_line():
    line = "谣" * 5000
    parts = split_lines(["标题", line, "尾"], 4096, lambda s: len(s.encode()))
    assert all(len(p.encode()) <= 4096 for p in parts)
    body = "".join(p.split("\n", 1)[1].replace("\n", "") for p in parts)
    assert body == "标题" + line + "尾"
