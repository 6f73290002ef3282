"""``tingfeng bulletin`` and ``tingfeng report`` through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from docx import Document

from tests.alerting.city import GOV

AT = "2026-06-10T21:50:00+08:00"


def run(tmp: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TINGFENG_CONFIG": str(tmp / "tingfeng.yaml"), "USER": "王编辑"}
    proc = subprocess.run(
        [sys.executable, "-m", "tingfeng", *args],
        capture_output=True, text=True, env=env, cwd=tmp, timeout=120,
    )  # fmt: skip
    assert proc.returncode == code, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_draft_approve_publish_and_report(tmp_path, city_store):
    (tmp_path / "tingfeng.yaml").write_text(
        yaml.safe_dump(
            {
                "store": {"path": "lz.db"},
                "office": {"name": "岚州市委网信办", "accounts": [GOV]},
            },
            allow_unicode=True,
        ),
        "utf-8",
    )
    out = run(
        tmp_path,
        "bulletin",
        "draft",
        "inc-lz-1",
        "--kind",
        "rebuttal",
        "--at",
        AT,
        "--docx",
        "b.docx",
        "--json",
    )
    bulletin = json.loads(out.stdout)
    assert bulletin["status"] == "draft" and bulletin["drafted_by"] == "王编辑"
    assert Document(str(tmp_path / "b.docx")).paragraphs[0].text == bulletin["title"]
    human = run(tmp_path, "bulletin", "show", bulletin["id"]).stdout
    assert bulletin["title"] in human and "[待核实：核实单位]" in human
    assert "起草参考（不对外发布）" in human and "待核实" in human

    run(tmp_path, "bulletin", "submit", bulletin["id"], "--at", AT, "--version", "1")
    # The approver read version 1; it is at 2 now: refused, named, in Chinese, unchanged.
    stale = run(
        tmp_path, "bulletin", "approve", bulletin["id"], "--by", "赵主任", "--version", "1", code=2
    )
    assert stale.stderr.startswith("错误：--version：") and "已被他人修改" in stale.stderr
    assert "第 1 版" in stale.stderr and "第 2 版" in stale.stderr
    refused = run(tmp_path, "bulletin", "approve", bulletin["id"], "--by", "赵主任", code=2)
    assert "仍有" in refused.stderr and "Traceback" not in refused.stderr

    effect = json.loads(
        run(
            tmp_path,
            "bulletin",
            "responses",
            "inc-lz-1",
            "--at",
            "2026-06-11T02:00:00+08:00",
            "--json",
        ).stdout
    )
    assert effect["responses"][0]["post_id"] == "weibo:9001"
    assert effect["effect"]["after"]["rebut_share"] > effect["effect"]["before"]["rebut_share"]

    md = run(
        tmp_path, "report", "weekly", "--at", "2026-06-11T02:00:00+08:00", "--docx", "w.docx"
    ).stdout
    assert md.startswith("# 岚州市委网信办舆情周报（2026年6月8日至2026年6月11日）")
    assert "本周网民反映问题 3 件，已办结 2 件" in md
    assert len(Document(str(tmp_path / "w.docx")).inline_shapes) == 3


def test_broken_office_template_stops_with_file_and_line(tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "ours.jinja").write_text(
        "{% block kind %}rebuttal{% endblock %}\n{% block title %}x{% endblock %}\n"
        "{% block body %}\n{{ incident.casualties }}\n{% endblock %}\n",
        "utf-8",
    )
    (tmp_path / "tingfeng.yaml").write_text(
        "store: {path: lz.db}\nbulletins:\n  templates: [tpl]\n", "utf-8"
    )
    out = run(tmp_path, "bulletin", "templates", code=2)
    assert f"{tmp_path / 'tpl' / 'ours.jinja'}:4: IncidentFact 没有字段 'casualties'" in (
        out.stderr
    )
