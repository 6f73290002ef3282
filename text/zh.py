"""Chinese wording for messages that libraries write in English: pydantic validation
errors (:func:`describe`) and operating-system errors (:func:`os_reason`).

Configuration files, environment variables and command-line options are all checked by
pydantic; its messages are English ("Input should be greater than or equal to 1"). The
office reads Chinese, so every user-facing place that shows a validation problem words it
with :func:`describe`, from the error's ``type`` code and its ``ctx`` (bounds, allowed
values). An unknown code falls back to a Chinese generic line plus pydantic's own text, so
nothing is hidden.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Mapping
from typing import Any

from models import FIELD_ERROR

#: pydantic type code -> Chinese template; ``{name}`` fields come from the error's ctx.
TEMPLATES: dict[str, str] = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知的配置项",
    "greater_than_equal": "应大于或等于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "应小于或等于 {le}",
    "less_than": "应小于 {lt}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数，不能带小数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "bool_parsing": "应为是或否（true/false、yes/no、1/0）",
    "bool_type": "应为是或否（true/false）",
    "string_type": "应为文本",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符（应匹配 {pattern}）",
    "too_short": "至少 {min_length} 项，现有 {actual_length} 项",
    "too_long": "最多 {max_length} 项，现有 {actual_length} 项",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "set_type": "应为列表",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "literal_error": "应为 {expected} 之一",
    "enum": "应为 {expected} 之一",
    "datetime_parsing": "不是有效的时间",
    "datetime_from_date_parsing": "不是有效的时间",
    "datetime_type": "不是有效的时间",
    "date_parsing": "不是有效的日期",
    "date_from_datetime_parsing": "不是有效的日期",
    "date_type": "不是有效的日期",
    "time_parsing": "不是有效的时刻",
    "time_delta_parsing": "不是有效的时长",
    "timezone_aware": "时间须带时区",
    "timezone_naive": "时间不能带时区",
    "path_type": "应为路径",
    "url_parsing": "不是有效的网址",
    "url_type": "不是有效的网址",
    "url_scheme": "网址协议应为 {expected_schemes}",
    "union_tag_invalid": "类型 {tag} 无效，应为 {expected_tags} 之一",
    "union_tag_not_found": "缺少区分类型的键 {discriminator}",
    "json_invalid": "不是有效的 JSON",
    "none_required": "应为空",
    "uuid_parsing": "不是有效的 UUID",
    "ip_v4_address": "不是有效的 IPv4 地址",
    "ip_any_address": "不是有效的 IP 地址",
}

#: Codes whose ctx ``error`` (or message) is our own validator's: shown as it is.
_OWN_MESSAGE = ("value_error", "assertion_error", FIELD_ERROR)


def choices(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as "'a'、'b'、'c'"."""
    return re.sub(r",\s+|\s+or\s+", "、", expected)


def describe(err: Mapping[str, Any]) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in Chinese."""
    kind = str(err.get("type", ""))
    ctx = dict(err.get("ctx") or {})
    msg = str(err.get("msg", ""))
    if kind in _OWN_MESSAGE:
        inner = str(ctx.get("error") or msg)
        for prefix in ("Value error, ", "Assertion failed, "):
            inner = inner.removeprefix(prefix)
        return own_message(inner)
    template = TEMPLATES.get(kind)
    if template is None:
        return f"取值无效（{msg}）"
    for key in ("expected", "expected_tags", "expected_schemes"):
        if isinstance(ctx.get(key), str):
            ctx[key] = choices(ctx[key])
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return f"取值无效（{msg}）"


#: Our validators' messages that still read like pydantic's own: reworded too.
_INPUT_SHOULD = re.compile(r"^Input should be (.+)$")


def own_message(text: str) -> str:
    """A validator's message (ours, already Chinese where written for users)."""
    m = _INPUT_SHOULD.match(text)
    if m:
        return f"应为 {choices(m.group(1))} 之一"
    return text


def input_value(err: Mapping[str, Any]) -> str | None:
    """The offending input, quoted for a message (None for a missing or nested value)."""
    if str(err.get("type")) == "missing" or "input" not in err:
        return None
    value = err["input"]
    if isinstance(value, dict | list):
        return None
    return repr(value) if isinstance(value, str) else str(value)


#: errno -> Chinese reason (``OSError.strerror`` is English, from the C library).
OS_REASONS: dict[int, str] = {
    errno.ENOENT: "不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "不允许的操作",
    errno.EISDIR: "是文件夹",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.EEXIST: "已存在",
    errno.EROFS: "文件系统只读",
    errno.ENOSPC: "磁盘空间不足",
    errno.ENAMETOOLONG: "路径太长",
    errno.ELOOP: "符号链接循环",
    errno.EBUSY: "正被占用",
    errno.ENOTEMPTY: "文件夹不为空",
    errno.EXDEV: "不能跨文件系统移动",
    errno.EIO: "读写出错",
    errno.EMFILE: "打开的文件太多",
    errno.ECONNREFUSED: "连接被拒绝",
    errno.ETIMEDOUT: "连接超时",
}


def os_reason(exc: BaseException) -> str:
    """Why an ``OSError`` happened, in Chinese (the English text when the errno is unknown)."""
    if isinstance(exc, UnicodeDecodeError):
        return "不是 UTF-8 编码"
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code in OS_REASONS:
        return OS_REASONS[code]
    return str(getattr(exc, "strerror", None) or exc or type(exc).__name__)


def os_message(exc: OSError) -> str:
    """An ``OSError`` as one line naming its path(s): ``PATH: 原因``."""
    reason = os_reason(exc)
    if exc.filename is not None and exc.filename2 is not None:
        return f"{exc.filename} → {exc.filename2}: {reason}"
    if exc.filename is not None:
        return f"{exc.filename}: {reason}"
    return reason


#: Counted import reasons (``ImportReport`` keys, English and stable: JSON output and
#: the API carry them as they are) -> Chinese for tables. ``{0}`` is the field.
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), t)
    for p, t in (
        (r"^missing field (.+)$", "缺少字段 {0}"),
        (r"^invalid date in (.+)$", "{0} 不是有效的时间"),
        (r"^unknown field (.+)$", "未知字段 {0}"),
        (r"^wrong type for (.+)$", "{0} 类型错误"),
        (
            r"^date out of range in (.+)$",
            "{0} 超出允许的日期范围（ingest.earliest_date、ingest.max_future_days）",
        ),
        (r"^invalid snapshot: (.+)$", "传播快照无效：{0}"),
        (r"^invalid value \((.*)\)$", "取值无效（{0}）"),
        (r"^store rejected \((.*)\)$", "存储拒绝写入（{0}）"),
        (r"^invalid (.+)$", "{0} 无效"),
    )
]
_FIXED_REASONS = {
    "unreadable file": "文件无法读取",
    "not UTF-8": "不是 UTF-8 编码",
    "malformed JSON": "JSON 格式错误",
    "not a JSON object": "不是 JSON 对象",
    "not an object": "不是 JSON 对象",
    "missing id": "缺少 id",
    "duplicate id": "id 重复",
    "invalid date": "时间无效",
    "empty text": "正文为空",
    "fetched_at before created_at (set to created_at)": (
        "fetched_at 早于 created_at（已改为 created_at）"
    ),
    "duplicate id in file (merged)": "文件内 id 重复（已合并）",
    "metric snapshot (not used here)": "传播快照（此处不使用）",
    "repost dated before its source (kept)": "转发时间早于原帖（已保留）",
    "repost file without source post": "转发文件没有对应的原帖",
    "event without repost file (no label)": "事件没有转发文件（无标签）",
    "not a list of reposts": "不是转发列表",
    "event without label": "事件没有标签",
}


def reason(text: str) -> str:
    """A counted skip or warning reason in Chinese (unknown ones as they are)."""
    if text in _FIXED_REASONS:
        return _FIXED_REASONS[text]
    for pattern, template in _REASONS:
        m = pattern.match(text)
        if m:
            inner = m.group(1)
            if template.startswith("传播快照无效"):
                inner = reason(inner)
            return template.format(inner)
    return text
