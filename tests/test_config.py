from __future__ import annotations

from pathlib import Path

import pytest

from tingfeng.config import ConfigError, load_config


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load_config(environ={})
    assert cfg.store.backend == "sqlite" and cfg.sources == []


def test_file_and_env_overrides(tmp_path: Path) -> None:
    file = tmp_path / "t.yaml"
    file.write_text("store:\n  backend: sqlite\n  path: db/x.db\n", "utf-8")
    cfg = load_config(file, environ={})
    assert cfg.store.path == (tmp_path / "db/x.db").resolve()
    env = {
        "TINGFENG_STORE__BACKEND": "elasticsearch",
        "TINGFENG_STORE__URL": "http://127.0.0.1:9200",
    }
    cfg = load_config(file, environ=env)
    assert cfg.store.backend == "elasticsearch" and cfg.store.url == "http://127.0.0.1:9200"
    cfg = load_config(environ={"TINGFENG_CONFIG": str(file)})
    assert cfg.source_file == file


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("store:\n  backend: mysql\n", "store.backend"),
        ("store:\n  url: ftp://x\n", "store.url: 应以 http:// 或 https:// 开头"),
        ("store:\n  batch_size: 0\n", "store.batch_size"),
        ("stor:\n  backend: sqlite\n", "stor: 未知的配置项（可用的有：store、nlp"),
        ("store:\n  bakend: sqlite\n", "store.bakend: 未知的配置项（可用的有：backend、path"),
        ("hot:\n  burst:\n    ratoi: 2\n", "hot.burst.ratoi: 未知的配置项"),
        ("sources:\n  - name: ab\n    kind: feed\n    titel: x\n", "sources.0.titel"),
        ("sources:\n  - name: a b\n    kind: feed\n", "sources.0.name"),
        ("sources:\n  - name: ab\n    kind: ftp\n", "sources.0.kind: 没有 'ftp' 类型的爬虫"),
        ("store: [1, 2\n", "不是有效的 YAML"),
        ("- just\n- a list\n", "顶层应为各配置节的映射"),
    ],
)
def test_bad_config_names_key(tmp_path: Path, text: str, expected: str | None) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(text, "utf-8")
    if expected is None:
        load_config(file, environ={})
        return
    with pytest.raises(ConfigError) as info:
        load_config(file, environ={})
    assert expected in str(info.value) and str(file) in str(info.value)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load_config(tmp_path / "nope.yaml", environ={})


def test_example_file_is_valid() -> None:
    example = Path(__file__).resolve().parent.parent / "tingfeng.example.yaml"
    cfg = load_config(example, environ={})
    assert cfg.store.backend == "sqlite"


@pytest.mark.parametrize("password", ["123456", "yes", "*abc", "{x", "null", "[1"])
def test_env_strings_arrive_intact(tmp_path: Path, password: str) -> None:
    env = {"TINGFENG_STORE__PASSWORD": password, "TINGFENG_STORE__BATCH_SIZE": "50",
           "TINGFENG_NLP__USER_DICT": "[a.txt, b.txt]"}  # fmt: skip
    cfg = load_config(None, environ=env)
    assert cfg.store.password == password and cfg.store.batch_size == 50
    assert [p.name for p in cfg.nlp.user_dict] == ["a.txt", "b.txt"]


def test_unknown_env_key_names_the_variable(tmp_path: Path) -> None:
    file = tmp_path / "t.yaml"
    file.write_text("store:\n  backend: sqlite\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(file, environ={"TINGFENG_STOER__BACKEND": "sqlite"})
    assert str(info.value).startswith("TINGFENG_STOER__BACKEND（环境变量）: stoer: 未知的配置项")
    with pytest.raises(ConfigError, match=r"TINGFENG_STORE_BACKEND: 未知的环境变量.*"
                       r"例如 TINGFENG_STORE__BACKEND"):  # fmt: skip
        load_config(file, environ={"TINGFENG_STORE_BACKEND": "sqlite"})
    # Variables that are not keys but are known (a spider's cookie) pass.
    load_config(file, environ={"TINGFENG_WEIBO_COOKIE": "SUB=x", "TINGFENG_CONFIG": str(file)})


def test_bad_env_value_is_blamed_on_the_variable(tmp_path: Path) -> None:
    file = tmp_path / "t.yaml"
    file.write_text("store:\n  batch_size: 10\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(file, environ={"TINGFENG_STORE__BATCH_SIZE": "many"})
    message = str(info.value)
    assert message.startswith("TINGFENG_STORE__BATCH_SIZE（环境变量）: store.batch_size: 应为整数")
    assert str(file) not in message


def test_every_path_option_is_relative_to_the_file(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    file = folder / "t.yaml"
    file.write_text(
        "store:\n  ca_certs: certs/ca.crt\n  path: db/x.db\n"
        "nlp:\n  user_dict: [dicts/a.txt]\n  stopwords: [stop.txt]\n  rumor_model: m.skops\n"
        "hot:\n  categories: cat.yaml\n",
        "utf-8",
    )
    monkeypatch.chdir(tmp_path)
    cfg = load_config(file, environ={"TINGFENG_NLP__STOPWORDS": "[/abs/s.txt, rel.txt]"})
    base = folder.resolve()
    assert cfg.store.ca_certs == base / "certs/ca.crt"
    assert cfg.store.path == base / "db/x.db"
    assert cfg.nlp.user_dict == [base / "dicts/a.txt"]
    assert cfg.nlp.stopwords == [Path("/abs/s.txt"), base / "rel.txt"]
    assert cfg.nlp.rumor_model == base / "m.skops"
    assert cfg.hot.categories == base / "cat.yaml"


def test_variables_named_by_the_configuration_are_allowed(tmp_path: Path) -> None:
    file = tmp_path / "t.yaml"
    file.write_text(
        "sources:\n  - name: wb\n    kind: weibo\n    settings:\n"
        "      users: ['1']\n      cookie_env: TINGFENG_WB_COOKIE_2\n",
        "utf-8",
    )
    load_config(file, environ={"TINGFENG_WB_COOKIE_2": "SUB=y"})
    with pytest.raises(ConfigError, match="TINGFENG_WB_COOKIE_3: 未知的环境变量"):
        load_config(file, environ={"TINGFENG_WB_COOKIE_3": "SUB=y"})
