"""The incident list as a CSV file for analysts (the 事件 page's 导出 link).

Chinese column headers and UTF-8 with a byte-order mark, so Excel on Chinese Windows opens
it as it is; the rows are those of the list's filters in the list's order, every page of
them up to :data:`MAX_LIST_WINDOW`, read from the store a thousand at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from api.security import mask_personal
from api.services.alerts_policy import tier_name
from api.services.posts import BAND_LABELS, band_of
from models import SHANGHAI, Incident, Tier
from store import Store
from tingfeng.services.incidents import MAX_LIST_WINDOW, IncidentFilters, incident_query

#: Rows read from the store per query.
CHUNK = 1000
COLUMNS = [
    "事件编号",
    "标题",
    "区域",
    "类别",
    "首次出现",
    "最近出现",
    "帖数",
    "热度",
    "热点",
    "谣言分",
    "谣言可能",
    "响应级别",
    "关键词",
    "链接",
]
#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _time(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else ""


def export_row(inc: Incident, tier: Tier | None, base_url: str) -> list[str]:
    score = inc.rumor_score
    return [
        inc.id,
        _cell(mask_personal(inc.title) or ""),
        _cell(inc.district or ""),
        _cell(inc.category or ""),
        _time(inc.first_seen),
        _time(inc.last_seen),
        str(inc.post_count),
        f"{inc.heat:.1f}",
        "是" if inc.hot else "否",
        "" if score is None else f"{score:.2f}",
        BAND_LABELS[band_of(score)],
        tier_name(tier) if tier else "未预警",
        _cell("、".join(inc.keywords)),
        f"{base_url.rstrip('/')}/incidents/{inc.id}",
    ]


def export_incidents(store: Store, f: IncidentFilters, base_url: str = "") -> Iterator[bytes]:
    """The CSV of every incident the filters match (``page``/``per_page`` ignored), in the
    list's order, streamed a chunk at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    yield ("\ufeff" + buf.getvalue()).encode()
    query = incident_query(f.model_copy(update={"page": 1, "per_page": 1}))
    offset = 0
    while offset < MAX_LIST_WINDOW:
        limit = min(CHUNK, MAX_LIST_WINDOW - offset)
        page = store.list_incidents(query.model_copy(update={"offset": offset, "limit": limit}))
        buf.seek(0)
        buf.truncate()
        for inc in page.incidents:
            writer.writerow(export_row(inc, page.tiers.get(inc.id), base_url))
        yield buf.getvalue().encode()
        offset += len(page.incidents)
        if len(page.incidents) < limit or offset >= page.total:
            break
