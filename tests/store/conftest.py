"""The ``store`` fixture: every contract test runs on each backend.

SQLite always; Elasticsearch when ``TINGFENG_ES_URL`` points at a real ES 8 server
(skipped with that reason otherwise). Each ES test gets its own index prefix.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import Store
from store.sqlite import SQLiteStore

ES_URL = os.environ.get("TINGFENG_ES_URL")


def _elastic_store() -> Store:
    from store.elastic import ElasticStore
    from tingfeng.config import StoreConfig

    cfg = StoreConfig(
        backend="elasticsearch",
        url=ES_URL,
        username=os.environ.get("TINGFENG_ES_USERNAME"),
        password=os.environ.get("TINGFENG_ES_PASSWORD"),
        verify_certs=os.environ.get("TINGFENG_ES_VERIFY_CERTS", "1") != "0",
        ca_certs=os.environ.get("TINGFENG_ES_CA_CERTS") or None,
        index_prefix=f"tftest-{uuid.uuid4().hex[:8]}",
    )
    return ElasticStore.from_config(cfg, refresh=True)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "elasticsearch",
            marks=pytest.mark.skipif(
                not ES_URL, reason="Elasticsearch contract run needs TINGFENG_ES_URL (not set)"
            ),
        ),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s: Store = SQLiteStore(tmp_path / "contract.db", batch_size=3)
    else:
        s = _elastic_store()
    try:
        yield s
    finally:
        if request.param == "elasticsearch":
            s.drop_all()  # type: ignore[attr-defined]
        s.close()
