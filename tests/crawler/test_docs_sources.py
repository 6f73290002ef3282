"""docs/sources.md and the spiders' settings agree, and its examples are valid config."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from crawler.registry import kinds, spider_for
from crawler.run import check_sources
from crawler.spiders.base import SourceSettings
from tingfeng.config import Config

DOC = Path(__file__).resolve().parents[2] / "docs" / "sources.md"
TEXT = DOC.read_text("utf-8")


def setting_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        inner = [a for a in typing.get_args(field.annotation) if a is not type(None)]
        models = [c for c in [field.annotation, *inner]
                  if isinstance(c, type) and issubclass(c, BaseModel)]  # fmt: skip
        if typing.get_origin(field.annotation) is list and models:
            keys.add(path)
            keys |= setting_keys(models[0], f"{path}[].")
        elif models:
            keys |= setting_keys(models[0], f"{path}.")
        else:
            keys.add(path)
    return keys


def documented(section: str) -> set[str]:
    part = TEXT.split(section, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", part, flags=re.MULTILINE))


COMMON = set(SourceSettings.model_fields)


@pytest.mark.parametrize("kind", kinds())
def test_every_setting_is_documented(kind: str) -> None:
    real = setting_keys(spider_for(kind).options_model) - COMMON
    assert real == documented(f"## kind: {kind}")


def test_common_settings_are_documented() -> None:
    assert documented("## Every source") == COMMON


def test_examples_are_valid_configuration() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", TEXT, flags=re.DOTALL)
    sources = []
    for block in blocks:
        data = yaml.safe_load(block)
        sources += data.get("sources") or []
        if "gazetteer" in data:
            Config.model_validate({"gazetteer": data["gazetteer"]})
    config = Config.model_validate({"sources": sources})
    assert {s.kind for s in config.sources} == set(kinds())
    check_sources(config.sources)


def test_example_config_sources_are_valid() -> None:
    from tingfeng.config import load_config

    config = load_config(DOC.parents[1] / "tingfeng.example.yaml", environ={})
    assert {s.kind for s in config.sources} == set(kinds())
    assert config.gazetteer
    check_sources(config.sources)


def test_the_weibo_paths_documented_are_the_ones_asked_for() -> None:
    from urllib.parse import unquote

    from tests.crawler.conftest import make_spider

    spider = make_spider("weibo", {"api_base": "http://m.example", "users": ["42"]})
    part = TEXT.split("## kind: weibo", 1)[1].split("\n## ", 1)[0]
    user = spider.timeline_request("user:42", 2).url.removeprefix("http://m.example")
    assert user.replace("42", "<uid>").replace("page=2", "page=<n>") in part
    search = unquote(spider.timeline_request("search:青川", 1).url)
    assert "containerid=100103type=1&q=青川&page_type=searchall&page=1" in search
    assert "/api/container/getIndex?containerid=<100103type=1&q=<keyword>" in part
    for field in ("card_group", "isTop", "total_number", "max_id", "longTextContent"):
        assert f"`{field}" in part or f".{field}`" in part, field
