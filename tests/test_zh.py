"""text.zh: pydantic's and the operating system's English worded in Chinese for users."""

from __future__ import annotations

import errno
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from text.zh import describe, os_message, reason


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(1, ge=1, le=5)
    kind: Literal["a", "b", "c"] = "a"
    name: str = Field("xx", min_length=2)
    items: list[int] = Field(default_factory=lambda: [1], min_length=1)
    flag: bool = True
    url: str = ""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith("http"):
            raise ValueError("应以 http:// 或 https:// 开头")
        return value


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"n": 0}, "应大于或等于 1"),
        ({"n": 9}, "应小于或等于 5"),
        ({"n": "x"}, "应为整数"),
        ({"kind": "z"}, "应为 'a'、'b'、'c' 之一"),
        ({"name": "x"}, "至少 2 个字符"),
        ({"items": []}, "至少 1 项，现有 0 项"),
        ({"flag": "maybe"}, "应为是或否"),
        ({"extra": 1}, "未知的配置项"),
        ({"url": "ftp://x"}, "应以 http:// 或 https:// 开头"),  # our own validator's text
    ],
)
def test_pydantic_errors_in_chinese(data: dict, expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        Sample.model_validate(data)
    assert describe(info.value.errors()[0]).startswith(expected)


def test_an_unknown_error_type_keeps_the_original_text() -> None:
    err = {"type": "brand_new_check", "msg": "Something new went wrong", "loc": ("x",)}
    assert describe(err) == "取值无效（Something new went wrong）"


def test_os_errors_name_the_path() -> None:
    exc = PermissionError(errno.EACCES, "Permission denied", "/srv/out.jsonl")
    assert os_message(exc) == "/srv/out.jsonl: 没有权限"
    odd = OSError(errno.EDOM, "Numerical argument out of domain", "/x")
    assert os_message(odd) == "/x: Numerical argument out of domain"


def test_counted_reasons_in_chinese_unknown_ones_kept() -> None:
    assert reason("wrong type for id") == "id 类型错误"
    assert reason("invalid snapshot: invalid date in observed_at") == (
        "传播快照无效：observed_at 不是有效的时间"
    )
    assert reason("not UTF-8") == "不是 UTF-8 编码"
    assert reason("a reason added later") == "a reason added later"
