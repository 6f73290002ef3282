"""``tingfeng crawl`` and ``tingfeng crawl --health`` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crawler.conftest import REPO, write_config


def tingfeng(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from tingfeng.cli import main; main()", "-c", str(config),
         *args],
        capture_output=True, text=True, timeout=60, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def config(server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_config(tmp_path_factory.mktemp("cli"), [
        {"name": "qc-gov", "kind": "feed",
         "settings": {"urls": [f"{server}/gov/rss.xml"], "full_text": False}},
        {"name": "wb-locked", "kind": "weibo",
         "settings": {"api_base": f"{server}/weibo-locked", "users": ["5001001"]}},
        {"name": "off", "kind": "feed", "enabled": False, "settings": {"urls": ["x"]}},
    ])  # fmt: skip


@pytest.fixture(scope="module")
def first_crawl(config: Path) -> subprocess.CompletedProcess[str]:
    return tingfeng(config, "crawl")


def test_crawl_prints_a_summary_and_fails_on_an_unhealthy_source(
    first_crawl: subprocess.CompletedProcess[str],
) -> None:
    result = first_crawl
    assert result.returncode == 1, result.stderr
    assert "采集结果" in result.stderr
    assert "异常" in result.stderr and "被拦截：登录墙" in result.stderr
    assert "✓ qc-gov：1 个页面，新增 4 条" in result.stderr
    assert "off" not in result.stderr.split("采集结果")[1]  # disabled: not crawled
    for english in ("crawl summary", "UNHEALTHY", "pages", "new items", "last new item"):
        assert english not in result.stderr


def test_crawl_one_source(config: Path, first_crawl: object) -> None:
    result = tingfeng(config, "crawl", "qc-gov")
    assert result.returncode == 0, result.stderr
    assert "qc-gov：1 个页面，新增 0 条" in result.stderr  # already collected


def test_health_reads_the_stored_records(config: Path, first_crawl: object) -> None:
    result = tingfeng(config, "crawl", "--health", "qc-gov")
    assert result.returncode == 0, result.stderr
    assert "数据源状态" in result.stderr and "qc-gov" in result.stderr
    result = tingfeng(config, "crawl", "--health")
    assert result.returncode == 1  # wb-locked is blocked, "off" was never crawled
    assert "从未采集" in result.stderr


def test_unknown_source_is_a_clear_error(config: Path) -> None:
    result = tingfeng(config, "crawl", "nope")
    assert result.returncode == 2
    assert "没有名为 'nope' 的数据源" in result.stderr and "qc-gov" in result.stderr


def test_bad_settings_fail_before_crawling(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "bad", "kind": "site", "settings": {"list": {}}}])
    result = tingfeng(config, "crawl")
    assert result.returncode == 2
    assert "sources.bad.settings.start_urls: 缺少必填项" in result.stderr
