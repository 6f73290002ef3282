"""The installed ``tingfeng`` command never shows a traceback: a usage error prints the
usage and exits 2, a bad value names the option or key, a path problem names the path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TINGFENG = Path(sys.executable).parent / "tingfeng"


def run(
    tmp: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "COLUMNS": "120"}
    return subprocess.run(
        [str(TINGFENG), *args], capture_output=True, text=True, timeout=60, cwd=tmp,
        env={**base, **(env or {})},
    )  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a small store, its config in ./tingfeng.yaml."""
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "tingfeng.yaml").write_text("store:\n  path: t.db\n", "utf-8")
    posts = tmp / "p.jsonl"
    lines = [
        {"id": f"bbs:{i}", "source": "bbs", "native_id": str(i), "text": text,
         "created_at": f"2026-11-{10 + i}T09:00:00+08:00"}
        for i, text in enumerate(
            ["鹿鸣路今天停水了", "鹿鸣路停电，停水也没恢复", "停电通知：鹿鸣路 明天检修",
             "学校门口交通拥堵"]
        )
    ]  # fmt: skip
    posts.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in lines), "utf-8")
    proc = run(tmp, "import", "jsonl", str(posts))
    assert proc.returncode == 0, proc.stderr
    return tmp


#: (arguments, Chinese problem line, what it must name). Every usage error names the option
#: or argument (and the value) in Chinese, then the usage line and where to find help.
USAGE = [
    (("nope",), "错误：没有命令 nope", "用法：tingfeng [选项] 命令 [参数]…", "tingfeng"),
    (("serch", "停水"), "是不是想用 'search'", "用法：tingfeng [选项] 命令 [参数]…", "tingfeng"),
    (
        ("search",),
        "错误：缺少参数 关键词",
        "用法：tingfeng search [选项] 关键词…",
        "tingfeng search",
    ),
    (
        ("search", "停水", "--limit", "abc"),
        "错误：选项 --limit 的值 'abc' 无效：应为整数",
        "用法：tingfeng search [选项] 关键词…",
        "tingfeng search",
    ),
    (
        ("search", "停水", "--limit", "0"),
        "选项 --limit 的值 '0' 无效：应大于或等于 1",
        "",
        "tingfeng search",
    ),
    (
        ("search", "停水", "--limit", "5000"),
        "--limit 的值 '5000' 无效：应小于或等于 1000",
        "",
        "tingfeng search",
    ),
    (
        ("tokenize", "-停水"),
        "错误：没有选项 -停",
        "以 - 开头的参数请写在 -- 之后",
        "tingfeng tokenize",
    ),
    (
        ("detect", "--rescan-hours", "-1"),
        "选项 --rescan-hours: 应在 0 到 8760 小时之间",
        "",
        "tingfeng detect",
    ),
    (
        ("export", "--bogus"),
        "错误：没有选项 --bogus",
        "用法：tingfeng export [选项]",
        "tingfeng export",
    ),
    (
        ("stats", "extra"),
        "错误：多余的参数：extra",
        "用法：tingfeng stats [选项]",
        "tingfeng stats",
    ),
    (
        ("alerts", "show"),
        "错误：缺少参数 预警编号",
        "用法：tingfeng alerts show [选项] 预警编号",
        "tingfeng alerts show",
    ),
    (
        ("train", "--out", "m.skops"),
        "错误：缺少选项 --data",
        "用法：tingfeng train [选项]",
        "tingfeng train",
    ),
    (("serve", "--port", "x"), "错误：选项 --port 的值 'x' 无效：应为整数", "", "tingfeng serve"),
    (
        ("import", "jsonl"),
        "错误：缺少参数 文件",
        "用法：tingfeng import jsonl [选项] 文件…",
        "tingfeng import jsonl",
    ),
]


@pytest.mark.parametrize(
    ("args", "problem", "named", "command"), USAGE, ids=[" ".join(u[0]) for u in USAGE]
)
def test_usage_errors_are_chinese_and_exit_2(
    home: Path, args: tuple[str, ...], problem: str, named: str, command: str
) -> None:
    proc = run(home, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("错误："), proc.stderr
    assert problem in proc.stderr and named in proc.stderr
    assert f"运行 {command} --help 查看帮助" in proc.stderr
    assert "Traceback" not in proc.stderr
    for english in ("Usage:", "Error:", "Missing", "Invalid value", "No such", "Try '"):
        assert english not in proc.stderr


@pytest.mark.parametrize("args", [(), ("import",), ("alert",)], ids=["(none)", "import", "alert"])
def test_no_arguments_show_the_chinese_help(home: Path, args: tuple[str, ...]) -> None:
    proc = run(home, *args)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert f"用法：{' '.join(('tingfeng', *args))} [选项] 命令 [参数]…" in out
    assert "命令" in out and "选项" in out and "显示本帮助并退出" in out
    assert "Usage:" not in out and "Options" not in out and "Commands" not in out


def test_help_pages_are_chinese(home: Path) -> None:
    proc = run(home, "search", "--help")
    assert proc.returncode == 0
    assert "用法：tingfeng search [选项] 关键词…" in proc.stdout
    for title in ("参数", "选项", "[默认：20]", "排序", "每页条数"):
        assert title in proc.stdout
    for english in ("Usage:", "Arguments", "Options", "Show this message", "[default"):
        assert english not in proc.stdout


#: (arguments, Chinese message, the option / path it must name verbatim).
ONE_LINE = [
    (("export", "--out", "."), "是文件夹，请给出文件名", "--out ."),
    (("export", "--out", "no/such/dir/x.jsonl"), "文件夹 no/such/dir 不存在", "--out no/such"),
    (("export", "--out", "p.jsonl/x.jsonl"), "文件夹 p.jsonl 不存在", "--out p.jsonl/x.jsonl"),
    (("export", "--out", "/"), "是文件夹，请给出文件名", "--out /"),
    (("export", "--format", "xml"), "应为 jsonl 或 csv，而不是 'xml'", "--format"),
    (("search", "停水 OR 停电"), "查询不支持 OR", ""),
    (("search", "-停水"), "查询只有排除词", ""),
    (("search", "停水", "--limt", "3"), "没有这个选项", "--limt"),
    (("search", "停水", "--sort", "newest"), "应为 relevance、time 或 time_asc", "--sort"),
    (("search", "停水", "--since", "yesterday"), "无法把 'yesterday' 识别为时间", "--since"),
    (("search", "停水", "--since", "2020-13-01"), "无法把 '2020-13-01' 识别为时间", "--since"),
    (("explain",), "请给出 --text 文本、--post 帖子编号、--incident 事件编号", "--text"),
    (("explain", "--post", "bbs:99"), "没有编号为 'bbs:99' 的帖子", "--post"),
    (("incidents", "--history", "inc-x"), "没有编号为 'inc-x' 的事件记录", "--history"),
    (("import", "jsonl", "missing.jsonl"), "文件不存在（未导入任何数据）", "missing.jsonl"),
    (("replay", "nowhere"), "文件或目录不存在", "nowhere"),
]


@pytest.mark.parametrize(
    ("args", "expected", "named"), ONE_LINE, ids=[" ".join(a) for a, _, _ in ONE_LINE]
)
def test_bad_values_are_one_line_exit_2(
    home: Path, args: tuple[str, ...], expected: str, named: str
) -> None:
    proc = run(home, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("错误：") and expected in proc.stderr, proc.stderr
    assert named in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_no_store_is_one_chinese_line(tmp_path: Path) -> None:
    proc = run(tmp_path, "stats")
    assert proc.returncode == 2
    assert proc.stderr == (
        "错误：没有数据库 data/tingfeng.db：请先运行 tingfeng import 或 tingfeng crawl\n"
    )


def test_export_to_an_unwritable_file(home: Path) -> None:
    proc = run(home, "export", "--out", "/proc/version")
    assert proc.returncode == 2 and proc.stderr.startswith("错误：--out /proc/version: ")
    assert "无法写入" in proc.stderr and "Traceback" not in proc.stderr


def test_config_errors_name_key_or_variable(home: Path) -> None:
    bad = home / "bad.yaml"
    bad.write_text("stor:\n  path: t.db\n", "utf-8")
    proc = run(home, "--config", str(bad), "stats")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"错误：{bad}: stor: 未知的配置项（可用的有：store、nlp")
    bad.write_text("store: {backend: foo}\n", "utf-8")
    proc = run(home, "--config", str(bad), "stats")
    assert proc.returncode == 2 and proc.stderr == (
        f"错误：{bad}: store.backend: 应为 'elasticsearch'、'sqlite' 之一，而不是 'foo'\n"
    )
    bad.write_text("store: {batch_size: 0}\napi: {environment: x}\n", "utf-8")
    proc = run(home, "--config", str(bad), "stats")
    assert proc.returncode == 2 and proc.stderr.splitlines() == [
        f"错误：{bad}: store.batch_size: 应大于或等于 1，而不是 0",
        f"错误：{bad}: api.environment: 应为 'development'、'production' 之一，而不是 'x'",
    ]
    proc = run(home, "stats", env={"TINGFENG_STORE__BATCH_SIZE": "lots"})
    assert proc.returncode == 2
    assert "TINGFENG_STORE__BATCH_SIZE（环境变量）: store.batch_size: 应为整数" in proc.stderr
    proc = run(home, "stats", env={"TINGFENG_STOER__BACKEND": "sqlite"})
    assert proc.returncode == 2
    assert "TINGFENG_STOER__BACKEND（环境变量）: stoer: 未知的配置项" in proc.stderr
    proc = run(home, "--config", "nope.yaml", "stats")
    assert proc.returncode == 2 and proc.stderr == "错误：nope.yaml: 找不到配置文件\n"


def test_import_summary_counts_reasons_in_chinese(home: Path) -> None:
    bad = home / "bad.jsonl"
    bad.write_text('{"id": 5, "source": "bbs", "native_id": "9", "text": "x"}\nnot json\n', "utf-8")
    proc = run(home, "import", "jsonl", str(bad))
    assert proc.returncode == 1  # nothing imported
    assert "导入结果" in proc.stdout and "读取" in proc.stdout
    assert "跳过：id 类型错误" in proc.stdout and "跳过：JSON 格式错误" in proc.stdout
    assert f"{bad}:1" in proc.stdout and "skipped" not in proc.stdout
    machine = json.loads(run(home, "import", "jsonl", str(bad), "--json").stdout)
    assert machine["skipped"] == {"wrong type for id": 1, "malformed JSON": 1}  # codes stay


def test_search_output_pages_phrases_and_exclusions(home: Path) -> None:
    proc = run(home, "search", "鹿鸣路", "--limit", "2")
    assert proc.returncode == 0, proc.stderr
    assert "第 1–2 条，共 3 条" in proc.stdout
    assert "来源：bbs 3" in proc.stdout and "日期：" in proc.stdout
    assert "第 3–3 条，共 3 条" in run(home, "search", "鹿鸣路", "--offset", "2").stdout

    def ids(*args: str) -> list[str]:
        out = run(home, "search", *args, "--json", "--sort", "time_asc")
        assert out.returncode == 0, out.stderr
        return [h["post"]["id"] for h in json.loads(out.stdout)["hits"]]

    assert ids("鹿鸣路 停电") == ["bbs:1", "bbs:2"]
    assert ids('"停电 通知"') == ["bbs:2"]  # the words together, in that order
    assert ids("“今天停水”") == ["bbs:0"]  # Chinese quotes too
    assert ids("“鹿鸣路停水”") == []  # both words occur, but not together
    assert ids("鹿鸣路", "-停电") == ["bbs:0"]
    assert ids("停水", '-"停电，停水"') == ["bbs:0"]
    total = json.loads(run(home, "search", "鹿鸣路", "-停电", "--json").stdout)
    assert total["total"] == 1 and total["facets"]["source"] == [["bbs", 1]]
