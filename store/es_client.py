"""Talking to Elasticsearch: the client from the configuration, errors, bulk writes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from store.base import StoreError

if TYPE_CHECKING:
    from store.config import StoreConfig

log = logging.getLogger(__name__)

#: ``refresh`` of write calls: False (ES refreshes within a second), True, or "wait_for".
Refresh = bool | Literal["wait_for"]


def make_client(cfg: StoreConfig) -> Elasticsearch:
    """An ``Elasticsearch`` client for ``store.url`` with the configured auth and TLS."""
    kwargs: dict[str, Any] = {
        "verify_certs": cfg.verify_certs,
        "request_timeout": 30,
        "retry_on_timeout": True,
        "max_retries": 3,
    }
    if cfg.username:
        kwargs["basic_auth"] = (cfg.username, cfg.password or "")
    if cfg.ca_certs:
        kwargs["ca_certs"] = str(cfg.ca_certs)
    if not cfg.verify_certs and cfg.url and cfg.url.startswith("https:"):
        # The operator chose this: say it once in the log rather than warn per request.
        kwargs["ssl_show_warn"] = False
        log.warning(
            "store.verify_certs is false: the TLS certificate of %s is not checked", cfg.url
        )
    return Elasticsearch(cfg.url, **kwargs)


def reason(error: Any) -> str:
    """One line from an ES error object: ``type: reason (cause type: cause reason)``."""
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}".strip(": ")
        cause = error.get("caused_by")
        return f"{text} ({reason(cause)})" if isinstance(cause, dict) else text
    return str(error)


def store_error(what: str, exc: Exception) -> StoreError:
    """A :class:`StoreError` naming what failed and the server's reason, for users."""
    if isinstance(exc, ApiError):
        body = exc.body.get("error") if isinstance(exc.body, dict) else exc.body
        detail = f"{exc.status_code} {reason(body)}"
    else:
        detail = str(exc)
    return StoreError(f"elasticsearch: {what} failed: {detail}")


@dataclass
class BulkWriter:
    """Bulk requests through :func:`elasticsearch.helpers.streaming_bulk`.

    Items (or whole requests) rejected with 429 are retried after ``initial_backoff``
    seconds, doubling each time up to ``max_backoff``, ``max_retries`` times; what still
    fails is returned per item, with the server's reason.
    """

    client: Elasticsearch
    max_retries: int = 5
    initial_backoff: float = 1.0
    max_backoff: float = 60.0
    refresh: Refresh = False

    def refresh_kw(self) -> dict[str, Any]:
        return {"refresh": self.refresh} if self.refresh else {}

    def write(self, actions: list[dict[str, Any]]) -> dict[str, tuple[int, str]]:
        """Send ``actions``; return ``{id: (status, reason)}`` of the items that failed."""
        if not actions:
            return {}
        failures: dict[str, tuple[int, str]] = {}
        done: set[str] = set()
        try:
            for ok, item in helpers.streaming_bulk(
                self.client,
                actions,
                chunk_size=len(actions),
                max_retries=self.max_retries,
                initial_backoff=self.initial_backoff,
                max_backoff=self.max_backoff,
                raise_on_error=False,
                raise_on_exception=True,
                yield_ok=True,
                **self.refresh_kw(),
            ):
                info = next(iter(item.values()))
                if ok:
                    done.add(str(info.get("_id")))
                    continue
                status = int(info.get("status") or 0)
                why = reason(info.get("error"))
                if status == 429:
                    why = f"rejected (429) after {self.max_retries} retries: {why}"
                failures[str(info.get("_id"))] = (status, why)
        except ApiError as exc:
            if exc.status_code != 429:
                raise store_error("bulk write", exc) from None
            why = f"request rejected (429) after {self.max_retries} retries"
            for action in actions:  # those not already answered one way or the other
                failures.setdefault(str(action["_id"]), (429, why))
            for doc_id in done:
                failures.pop(doc_id, None)
        except TransportError as exc:
            raise store_error("bulk write", exc) from None
        return failures
