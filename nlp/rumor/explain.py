"""Readable reasons for a rumor score: the features that pushed it up or down.

The score is a linear SVM's margin plus gradient-boosted trees (nlp.rumor.pipeline
.SvmBoostBlend). Each feature's push in the linear part is exactly its coefficient times its
value in the (scaled) input; numeric features are standardised, so their push is measured
against an average training event. The trees have no per-feature weights: each of their
inputs is credited with how much the trees' log-odds change when it alone is set to a
neutral value, the text models' margins appear as "原文整体措辞" / "转发评论整体内容", and
what interactions leave over is one reason of its own. Each reason is phrased for an
analyst, in Chinese.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from nlp.rumor.features import (
    CUES,
    FROM_REPOSTS,
    N_TEXT_COLS,
    NUMERIC_INDEX,
    TOO_SHORT,
    RumorInput,
    prepare,
    to_matrix,
)
from nlp.rumor.model import RumorModel

_CUE_WORDS = {w: kind for kind, words in CUES.items() for w in words}
_CUE_LABEL = {"doubt": "质疑词", "denial": "辟谣/否认词", "deleted": "删帖相关词"}
_VTYPE = {
    "-1": "作者未认证",
    "0": "作者为个人认证（黄V）",
    "200": "作者为微博达人",
    "220": "作者为微博达人",
    "none": "作者认证类型未知",
}


@dataclass
class Reason:
    """One feature's push: ``direction`` is ``rumor`` or ``non-rumor``."""

    feature: str
    text: str
    direction: str
    weight: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count(log_value: float) -> int:
    return round(math.expm1(log_value))


def _human_number(n: float) -> str:
    return f"{n / 10000:.1f}万" if n >= 10000 else f"{n:.0f}"


def _numeric_text(name: str, raw: list[Any]) -> str | None:
    """Describe a numeric feature with its actual value; ``None`` hides it."""
    if name in FROM_REPOSTS and not float(raw[NUMERIC_INDEX["n_reposts"]]):
        return None
    v = float(raw[NUMERIC_INDEX[name]])
    describe = {
        "verified": lambda: "作者已认证" if v else "作者未认证",
        "followers": lambda: f"作者粉丝数 {_human_number(math.expm1(v))}",
        "friends": lambda: f"作者关注数 {_human_number(math.expm1(v))}",
        "statuses": lambda: f"作者发博数 {_human_number(math.expm1(v))}",
        "account_age_days": lambda: f"账号注册 {_count(v)} 天",
        "follower_ratio": lambda: "作者粉丝数远多于关注数" if v > 1 else "作者粉丝数不多于关注数",
        "author_missing": lambda: "缺少作者信息" if v else None,
        "followers_missing": lambda: "缺少粉丝数" if v else None,
        "account_age_missing": lambda: "缺少账号注册时间" if v else None,
        "n_reposts": lambda: f"已观察到 {_count(v)} 条转发/评论",
        "span_hours": lambda: f"传播已持续约 {math.expm1(v):.1f} 小时",
        "velocity": lambda: f"传播速度约 {math.expm1(v):.0f} 条/小时",
        "acceleration": lambda: "传播在加速" if v > 0 else "传播在减速",
        "max_depth": lambda: f"转发链最深 {v:.0f} 层",
        "mean_depth": lambda: f"转发链平均深度 {v:.1f} 层",
        "share_deep": lambda: f"{v:.0%} 的转发来自二次及以上转发",
        "breadth": lambda: f"同一层最多 {_count(v)} 条转发",
        "share_direct": lambda: f"{v:.0%} 的转发直接转自原帖",
        "share_text": lambda: f"{v:.0%} 的转发附有评论文字",
        "unique_users": lambda: f"转发者中不同用户占 {v:.0%}",
        "share_doubt": lambda: f"{v:.0%} 的转发评论含质疑词",
        "share_denial": lambda: f"{v:.0%} 的转发评论含辟谣/否认词",
        "share_deleted": lambda: f"{v:.0%} 的转发评论提到删帖",
        "n_doubt": lambda: f"{_count(v)} 条转发评论含质疑词",
        "n_denial": lambda: f"{_count(v)} 条转发评论含辟谣/否认词",
        "n_deleted": lambda: f"{_count(v)} 条转发评论提到删帖",
        "text_length": lambda: f"原文长 {_count(v)} 字",
        "has_url": lambda: "原文含链接" if v else "原文不含链接",
        "n_mentions": lambda: f"原文 @ 了 {_count(v)} 个用户",
        "has_hashtag": lambda: "原文带 #话题#" if v else "原文不带话题",
        "has_brackets": lambda: "原文以【标题】形式发布" if v else "原文无【标题】",
        "n_question": lambda: f"原文有 {_count(v)} 个问号",
        "n_exclaim": lambda: f"原文有 {_count(v)} 个感叹号",
        "text_missing": lambda: "缺少原文文字" if v else None,
        "time_missing": lambda: "缺少发布时间" if v else None,
    }
    if name.startswith("count_"):
        return f"发布后 {name[6:-1]} 分钟内 {_count(v)} 条转发"
    if name.startswith("time_to_"):
        k = name.rsplit("_", 1)[1]
        if not raw[NUMERIC_INDEX[f"reached_{k}"]]:
            return f"尚未达到 {k} 条转发"
        return f"第 {k} 条转发出现在发布后 {_duration(math.expm1(v))}"
    if name.startswith("reached_"):
        return None  # described together with time_to_k
    fn = describe.get(name)
    return fn() if fn else name


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} 秒"
    if seconds < 7200:
        return f"{seconds / 60:.0f} 分钟"
    return f"{seconds / 3600:.1f} 小时"


def describe(feature: str, raw: list[Any]) -> str | None:
    """Analyst-readable text for one ``block:name`` feature of one input row."""
    block, _, name = feature.partition(":")
    if block == "src_word":
        return f"原文用词「{name}」"
    if block == "src_char":
        return f"原文含字串「{name}」" if len(name.strip()) >= 2 else None
    if block == "rep_word":
        cue = _CUE_WORDS.get(name)
        if cue:
            return f"转发评论中出现{_CUE_LABEL[cue]}「{name}」"
        return f"转发评论中出现「{name}」"
    if block == "vtype":
        return _VTYPE.get(name, "作者为机构认证（蓝V）" if name.isdigit() else f"认证类型 {name}")
    if block == "num":
        return _numeric_text(name, raw)
    if block == "stage":
        return None  # the stage's own intercept says nothing readable about the claim
    if block == "text":
        return (
            "原文整体措辞（文本模型综合判断）"
            if name == "source"
            else "转发评论整体内容（文本模型综合判断）"
        )
    if block == "boost":
        return "多项传播与账号特征的组合"
    return feature


def explain(
    model: RumorModel, inp: RumorInput, *, horizon: timedelta | None = None, top: int = 4
) -> dict[str, Any]:
    """Score one input and give the ``top`` reasons on each side.

    Returns ``{"probability", "missing", "toward_rumor": [...], "toward_non_rumor": [...]}``
    with each reason as ``{"feature", "text", "direction", "weight"}``. An input whose
    source text is too short is not scored: ``probability`` None and ``reason`` 文本过短.
    """
    prepared = prepare(inp)
    row, missing = prepared.row(horizon)
    if prepared.unscorable(horizon):
        return {
            "probability": None,
            "reason": TOO_SHORT,
            "missing": list(missing),
            "toward_rumor": [],
            "toward_non_rumor": [],
        }
    matrix = to_matrix([row])
    probability = float(model.predict_proba(matrix)[0])
    raw = row[N_TEXT_COLS:]
    pushes: dict[str, float] = {}
    for feature, push, _ in model.contributions(matrix[0]):
        target = _stand_in(feature, raw)
        pushes[target] = pushes.get(target, 0.0) + push
    reasons: list[Reason] = []
    for feature, push in pushes.items():
        if abs(push) < 1e-6:
            continue
        text = describe(feature, raw)
        if text is None:
            continue
        reasons.append(Reason(feature, text, "rumor" if push > 0 else "non-rumor", round(push, 4)))
    up = sorted((r for r in reasons if r.weight > 0), key=lambda r: -r.weight)
    down = sorted((r for r in reasons if r.weight < 0), key=lambda r: r.weight)
    return {
        "probability": round(probability, 4),
        "missing": list(missing),
        "toward_rumor": [r.as_dict() for r in _dedupe(up)[:top]],
        "toward_non_rumor": [r.as_dict() for r in _dedupe(down)[:top]],
    }


#: Author features that are only placeholders (zeros) when the author is unknown.
_AUTHOR_FEATURES = frozenset(
    {"verified", "followers", "friends", "statuses", "follower_ratio", "account_age_days"}
    | {"followers_missing", "account_age_missing"}
)


def _stand_in(feature: str, raw: list[Any]) -> str:
    """The feature whose reason carries ``feature``'s push: a placeholder value of missing
    data ("作者粉丝数 0" for an unknown author) is not a fact about the post, so its push
    joins the reason that says the data is missing."""
    block, _, name = feature.partition(":")
    if block != "num":
        return feature
    if raw[NUMERIC_INDEX["author_missing"]] and name in _AUTHOR_FEATURES:
        return "num:author_missing"
    if raw[NUMERIC_INDEX["followers_missing"]] and name in ("followers", "follower_ratio"):
        return "num:followers_missing"
    if raw[NUMERIC_INDEX["account_age_missing"]] and name == "account_age_days":
        return "num:account_age_missing"
    return feature


def _dedupe(reasons: list[Reason]) -> list[Reason]:
    """Char n-grams overlap (「谣言」「谣言」): keep one reason per distinct text."""
    seen: set[str] = set()
    out = []
    for r in reasons:
        if r.text not in seen:
            seen.add(r.text)
            out.append(r)
    return out
