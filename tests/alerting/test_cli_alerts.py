"""The alert CLI: list, run, ack/assign/respond/close, silences, channels test."""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from typer.testing import CliRunner

from store.sqlite import SQLiteStore
from tests.alerting.support import T0, incident, put
from tingfeng.cli import app

AT = T0.isoformat()


def setup(tmp_path, webhook=None, wecom=None, **alerting):
    cfg = {"store": {"path": str(tmp_path / "tf.db")}, "alerting": alerting}
    if webhook is not None:
        cfg["alerting"] = {
            "channels": {
                "duty": {"type": "webhook", "url": webhook.url + "/d", "secret": "s3cret"}
            },
            "routes": {"duty": ["duty"], "supervisor": ["duty"], "admin": ["duty"]},
            **alerting,
        }
    if wecom is not None:
        cfg["alerting"]["channels"]["wc"] = {"type": "wecom", "key": "wk-1", "base_url": wecom.url}
    path = tmp_path / "tingfeng.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), "utf-8")
    # An office's store exists before anyone handles alerts (import, crawl or the first
    # user create it); alert commands never create one.
    SQLiteStore(tmp_path / "tf.db").close()
    return {"TINGFENG_CONFIG": str(path)}


def test_alert_commands_never_create_a_store(tmp_path):
    cfg = tmp_path / "tingfeng.yaml"
    cfg.write_text(yaml.safe_dump({"store": {"path": "nowhere/tf.db"}}), "utf-8")
    for args in (["alerts"], ["silence", "list"], ["alert", "ack", "x", "--by", "李明"]):
        result = CliRunner().invoke(app, args, env={"TINGFENG_CONFIG": str(cfg)})
        assert result.exit_code != 0
    assert not (tmp_path / "nowhere").exists()


def cli(env, *args):
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_alert_flow(tmp_path, webhook):
    env = setup(tmp_path, webhook)
    with SQLiteStore(tmp_path / "tf.db") as store:
        put(store, incident(heat=65))
    out = cli(env, "alerts", "run", "--at", AT)
    assert "新建 1" in out and "发送 1 条" in out
    listed = json.loads(cli(env, "alerts", "--json", "--at", AT))
    assert listed["count"] == 1 and listed["data"][0]["tier"] == "II"
    table = cli(env, "alerts", "--at", AT)
    assert "预警（1 条）" in table and "高热度" in table
    cli(env, "alert", "ack", "alert-inc-1", "--by", "王芳", "--comment", "收到", "--at", AT)
    cli(
        env,
        "alert",
        "assign",
        "alert-inc-1",
        "--to",
        "张伟",
        "--department",
        "临江区城管局",
        "--by",
        "王芳",
        "--at",
        AT,
    )
    cli(
        env,
        "alert",
        "respond",
        "alert-inc-1",
        "--url",
        "https://weibo.example/qc/1",
        "--by",
        "张伟",
        "--at",
        AT,
    )
    done = json.loads(
        cli(
            env,
            "alert",
            "close",
            "alert-inc-1",
            "--reason",
            "已回应平息",
            "--by",
            "王芳",
            "--at",
            AT,
            "--json",
        )
    )
    assert done["status"] == "closed"
    assert [h["action"] for h in done["history"]][-4:] == [
        "acknowledged",
        "assigned",
        "responded",
        "closed",
    ]
    assert json.loads(cli(env, "alerts", "--json"))["count"] == 0
    assert "关闭" in cli(env, "alerts", "show", "alert-inc-1")


def test_silence_commands(tmp_path):
    env = setup(tmp_path)
    out = json.loads(
        cli(
            env,
            "silence",
            "add",
            "keyword",
            "停水",
            "--reason",
            "计划停水已公告",
            "--minutes",
            "90",
            "--by",
            "李明",
            "--at",
            AT,
            "--json",
        )
    )
    sid = out["id"]
    assert "静默 / silences（1）" in cli(env, "silence", "list", "--at", AT)
    (listed,) = json.loads(cli(env, "silence", "list", "--at", AT, "--json"))["data"]
    assert listed["id"] == sid and listed["reason"] == "计划停水已公告"
    cli(env, "silence", "remove", sid, "--by", "李明", "--at", AT)
    assert json.loads(cli(env, "silence", "list", "--at", AT, "--json"))["count"] == 0
    ended = json.loads(cli(env, "silence", "list", "--all", "--json"))["data"][0]
    assert ended["removed_by"] == "李明"


def test_channels_test_prints_the_platform_answer(tmp_path, webhook, wecom):
    env = setup(tmp_path, webhook, wecom)
    out = cli(env, "channels", "test", "wc", "--at", AT)
    assert "成功" in out and '"errcode": 0' in out
    assert "测试消息" in wecom.accepted[0]["markdown"]["content"]
    wecom.garbage = True
    result = CliRunner().invoke(app, ["channels", "test", "wc"], env=env)
    assert result.exit_code == 1 and "失败" in result.output


def run_main(env, monkeypatch, capsys, *args):
    """The real entry point (its error boundary), in-process."""
    from tingfeng.cli import main

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "argv", ["tingfeng", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return info.value.code, capsys.readouterr().err


def test_errors_are_one_line(tmp_path, monkeypatch, capsys):
    env = setup(tmp_path, channels={"x": {"type": "dingtalk", "access_token": "t"}})
    code, err = run_main(env, monkeypatch, capsys, "alerts")
    assert code == 2 and "alerting.channels.x.secret: 缺少必填项" in err
    assert "Traceback" not in err
    env = setup(tmp_path, policy="missing.yaml")
    code, err = run_main(env, monkeypatch, capsys, "alerts", "run")
    assert code == 2 and "missing.yaml: 找不到响应级别策略文件" in err
    env = setup(tmp_path)
    code, err = run_main(env, monkeypatch, capsys, "alert", "ack", "nope", "--by", "王芳")
    assert code == 2 and "没有编号为 'nope' 的预警" in err


def test_alerts_show_is_as_of_the_reference_clock(tmp_path):
    env = setup(tmp_path)
    with SQLiteStore(tmp_path / "tf.db") as store:
        put(store, incident(heat=65))
    cli(env, "alerts", "run", "--at", AT, "--no-send")
    cli(env, "alert", "ack", "alert-inc-1", "--by", "李明", "--at", at(minutes=30))
    before = cli(env, "alerts", "show", "alert-inc-1", "--at", at(minutes=10))
    assert "状态：新建（截至 03月14日 09:10）" in before
    assert "首次回应：03月14日 11:00（剩余 1小时50分钟）" in before
    assert "确认 李明" not in before and "参考时间之后另有 1 条处理记录" in before
    after = cli(env, "alerts", "show", "alert-inc-1", "--at", at(minutes=40))
    assert "状态：已确认" in after and "确认 李明：已确认" in after
    late = cli(env, "alerts", "show", "alert-inc-1", "--at", at(hours=30))
    assert "首次回应：03月14日 11:00（已超时 1天4小时）" in late
    shown = json.loads(cli(env, "alerts", "show", "alert-inc-1", "--json", "--at", at(minutes=10)))
    assert shown["status"] == "acknowledged" and shown["status_as_of"] == "new"
    assert shown["deadlines_as_of"][0]["overdue"] is False
    bad = CliRunner().invoke(app, ["alerts", "show", "alert-inc-1", "--at", "昨天"], env=env)
    assert bad.exit_code != 0 and "--at: 不是 ISO 8601 时间" in str(bad.exception or bad.output)


def at(**delta: float) -> str:
    from datetime import timedelta

    return (T0 + timedelta(**delta)).isoformat()


def test_alerts_run_drafts_for_a_likely_rumor_as_the_worker_does(tmp_path, webhook):
    """Stepping an evening with ``tingfeng alerts run --at T`` (no worker): the alert on a
    likely rumor gets its 辟谣声明 draft in the same pass, once (the 枫川 red-team evening
    found none after a tier II alert on a rumor scored 0.98)."""
    from models import Alert, Bulletin

    env = setup(tmp_path, webhook)
    with SQLiteStore(tmp_path / "tf.db") as store:
        put(store, incident(heat=65, rumor_score=0.9))
    out = cli(env, "alerts", "run", "--at", AT)
    assert "新建 1" in out and "已自动起草通报" in out
    with SQLiteStore(tmp_path / "tf.db") as store:
        (draft,) = store.list_records(Bulletin, limit=10, incident_id="inc-1")
        assert draft.drafted_by == "tingfeng" and draft.status.value == "draft"
        alert = store.get_record(Alert, "alert-inc-1")
        assert [e.detail["bulletin_id"] for e in alert.history if e.action == "drafted"] == [
            draft.id
        ]
    again = cli(env, "alerts", "run", "--at", AT)
    assert "已自动起草通报" not in again
    # Drafts off: the pass drafts nothing.
    (tmp_path / "off").mkdir()
    env = setup(tmp_path / "off", webhook, drafts={"enabled": False})
    with SQLiteStore(tmp_path / "off" / "tf.db") as store:
        put(store, incident(heat=65, rumor_score=0.9))
    assert "已自动起草通报" not in cli(env, "alerts", "run", "--at", AT)


def test_alerts_show_lists_history_in_time_order(tmp_path):
    """A board reply is recorded after the pass that marked the alert 已平息 but dated when
    it was written: the history reads in time order."""
    from datetime import timedelta

    from models import Alert, AlertEvent, AlertKind, Tier

    env = setup(tmp_path)
    with SQLiteStore(tmp_path / "tf.db") as store:
        store.save_record(
            Alert(
                id="alert-x",
                alert_kind=AlertKind.INCIDENT,
                tier=Tier.III,
                rule="直接诉求",
                title="桂花路路灯不亮",
                opened_at=T0,
                history=[
                    AlertEvent(at=T0, action="created", text="Ⅲ级：规则「直接诉求」"),
                    AlertEvent(at=T0 + timedelta(minutes=15), action="recovered", text="平息"),
                    AlertEvent(at=T0 + timedelta(minutes=5), action="responded", text="已回应"),
                ],
            )
        )
    out = cli(env, "alerts", "show", "alert-x", "--at", (T0 + timedelta(hours=1)).isoformat())
    history = [line.split()[-1] for line in out.splitlines() if line.startswith("  0")]
    assert history[-3:] == ["系统：Ⅲ级：规则「直接诉求」", "系统：已回应", "系统：平息"], out
