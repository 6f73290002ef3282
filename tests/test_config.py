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
        ("store:\n  url: ftp://x\n", "store.url: Value error, must start with http"),
        ("store:\n  batch_size: 0\n", "store.batch_size"),
        ("stor:\n  backend: sqlite\n", None),  # unknown sections are allowed for plugins
        ("sources:\n  - name: a b\n    kind: feed\n", "sources.0.name"),
        ("sources:\n  - name: ab\n    kind: ftp\n", "sources.0.kind"),
        ("store: [1, 2\n", "not valid YAML"),
        ("- just\n- a list\n", "top level must be a mapping"),
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
    with pytest.raises(ConfigError, match="not found"):
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
