"""Versioned records (incidents, alerts, bulletins) and key/value state on Elasticsearch.

A record is stored whole under ``doc``; its top-level scalar fields are copied into the
flattened ``fields`` for ``list_records(**equals)``. Saving is optimistic: the stored
``version`` must equal the edited one, and the write is guarded by ``if_seq_no`` /
``if_primary_term`` so a save landing in between is a :class:`ConflictError`, not a silent
overwrite.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch import ConflictError as ESConflictError
from elasticsearch import NotFoundError as ESNotFoundError

from models import Alert, Incident, Record, Tier
from store import es_query
from store.base import ConflictError, IncidentPage, IncidentQuery, R, StoreError
from store.es_client import BulkWriter, store_error
from store.es_mappings import IndexNames
from store.es_schema import Schema
from store.incident_fields import current_alert, incident_fields


def record_document(saved: Record, tier: str | None = None) -> dict[str, Any]:
    """The indexed document of a saved record (incidents also carry ``listing``, with
    ``tier``, the current alert's, when the incident was ever alerted)."""
    data = saved.model_dump(mode="json")
    document: dict[str, Any] = {
        "id": saved.id,
        "version": saved.version,
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
        "updated_s": int(saved.updated_at.timestamp()),
        "fields": es_query.record_fields(saved.model_dump()),
        "doc": data,
    }
    if isinstance(saved, Incident):
        document["listing"] = incident_fields(saved)
        if tier is not None:
            document["listing"]["tier"] = tier
    return document


#: Compare-and-set attempts of :meth:`RecordStore.update_state` before giving up.
_STATE_RETRIES = 20
#: Saves retried when only an incident's ``listing.tier`` changed in between (an alert
#: was saved): the record itself is unchanged, so the save is no conflict.
_TIER_RETRIES = 5


class RecordStore:
    """Records and state of one index prefix (used by :class:`store.elastic.ElasticStore`)."""

    def __init__(
        self, client: Elasticsearch, names: IndexNames, schema: Schema, writer: BulkWriter
    ) -> None:
        self.client = client
        self.names = names
        self.schema = schema
        self.writer = writer

    def _stored_version(self, alias: str, record_id: str) -> int | None:
        try:
            doc = self.client.get(index=alias, id=record_id, source_includes=["version"])
        except ESNotFoundError:
            return None
        return int(doc["_source"]["version"])

    def save(self, record: R) -> R:
        """Save one record (optimistic, see the module). An incident keeps its stored
        ``listing.tier``; an alert then sets the current tier of its incident (and of a
        former one, if it moved): Elasticsearch has no multi-document transaction, so this
        follows the alert's save instead of sharing its transaction (docs/elasticsearch.md)."""
        kind = type(record).kind
        alias = self.schema.ensure_records(kind)
        saved = record.model_copy(
            update={"version": record.version + 1, "updated_at": datetime.now(UTC)}
        )
        refresh = self.writer.refresh_kw()
        before: str | None = None
        try:
            for attempt in range(_TIER_RETRIES):
                if record.version == 0:
                    # An alert may precede its incident (rare: no refresh for it).
                    tier = (
                        self.current_tier(record.id, fresh=False)
                        if isinstance(record, Incident)
                        else None
                    )
                    document = record_document(saved, tier)
                    self.client.create(index=alias, id=record.id, document=document, **refresh)
                    break
                try:
                    current = self.client.get(
                        index=alias,
                        id=record.id,
                        source_includes=["version", "listing.tier", "doc.incident_id"],
                    )
                except ESNotFoundError:
                    raise ConflictError(kind, record.id, record.version, None) from None
                source = current["_source"]
                stored = int(source["version"])
                if stored != record.version:
                    raise ConflictError(kind, record.id, record.version, stored)
                before = (source.get("doc") or {}).get("incident_id")
                document = record_document(saved, (source.get("listing") or {}).get("tier"))
                try:
                    self.client.index(
                        index=alias,
                        id=record.id,
                        document=document,
                        if_seq_no=current["_seq_no"],
                        if_primary_term=current["_primary_term"],
                        **refresh,
                    )
                    break
                except ESConflictError:
                    same = self._stored_version(alias, record.id) == record.version
                    if not same or attempt == _TIER_RETRIES - 1:
                        raise
        except ESConflictError:
            raise ConflictError(
                kind, record.id, record.version, self._stored_version(alias, record.id)
            ) from None
        except (ApiError, TransportError) as exc:
            raise store_error(f"saving {kind} {record.id}", exc) from None
        if isinstance(saved, Alert):
            for incident_id in {before, saved.incident_id} - {None}:
                self.write_tier(incident_id, saved)  # type: ignore[arg-type]
        return saved

    def _incident_alerts(self, incident_id: str, fresh: bool) -> list[Alert]:
        alias = self.names.records(Alert.kind)
        try:
            if fresh and not self.writer.refresh:  # the alert just saved must be searchable
                self.client.indices.refresh(index=alias, ignore_unavailable=True)
            resp = self.client.search(
                index=alias,
                query=es_query.records_query({"incident_id": incident_id}),
                size=es_query.MAX_RESULT_WINDOW,
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        except (ApiError, TransportError) as exc:
            raise store_error(f"reading the alerts of incident {incident_id}", exc) from None
        return [Alert.model_validate(h["_source"]["doc"]) for h in resp["hits"]["hits"]]

    def current_tier(
        self, incident_id: str, saved: Alert | None = None, *, fresh: bool = True
    ) -> str | None:
        """The incident's current tier from its alerts (``saved`` replacing its stored copy:
        the alert whose save asks; ``fresh``: refresh the alert index first)."""
        alerts = {a.id: a for a in self._incident_alerts(incident_id, fresh)}
        if saved is not None:
            alerts[saved.id] = saved
        chosen = current_alert(a for a in alerts.values() if a.incident_id == incident_id)
        return chosen.tier.value if chosen is not None else None

    def write_tier(self, incident_id: str, saved: Alert) -> None:
        """Set ``listing.tier`` of one incident (no version change: not an edit of it)."""
        tier = self.current_tier(incident_id, saved)
        alias = self.names.records(Incident.kind)
        try:
            self.client.update(
                index=alias,
                id=incident_id,
                # A script, so that "never alerted" removes the field rather than storing null.
                script={
                    "source": "if (params.t == null) { ctx._source.listing.remove('tier') }"
                    " else { ctx._source.listing.tier = params.t }",
                    "params": {"t": tier},
                },
                retry_on_conflict=5,
                **self.writer.refresh_kw(),
            )
        except ESNotFoundError:
            return  # no such incident (yet): it looks its tier up when first saved
        except (ApiError, TransportError) as exc:
            raise store_error(f"saving the tier of incident {incident_id}", exc) from None

    def get(self, cls: type[R], record_id: str) -> R | None:
        try:
            doc = self.client.get(index=self.names.records(cls.kind), id=record_id)
        except ESNotFoundError:
            return None
        except (ApiError, TransportError) as exc:
            raise store_error(f"reading {cls.kind} {record_id}", exc) from None
        return cls.model_validate(doc["_source"]["doc"])

    def list(self, cls: type[R], *, limit: int, offset: int, equals: dict[str, Any]) -> list[R]:
        for field in equals:
            if field not in cls.model_fields:
                raise StoreError(f"list_records: {cls.kind} has no field {field!r}")
        try:
            resp = self.client.search(
                index=self.names.records(cls.kind),
                query=es_query.records_query(equals),
                # Whole seconds, then id: the order of the SQLite backend.
                sort=[{"updated_s": "desc"}, {"id": "asc"}],
                from_=offset,
                size=limit,
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        except (ApiError, TransportError) as exc:
            raise store_error(f"listing {cls.kind}", exc) from None
        return [cls.model_validate(h["_source"]["doc"]) for h in resp["hits"]["hits"]]

    def list_incidents(self, q: IncidentQuery) -> IncidentPage:
        """One search: filters, order, page and the exact total on the ``listing`` fields."""
        if q.offset + q.limit > es_query.MAX_RESULT_WINDOW:
            raise StoreError(
                f"list_incidents: offset + limit may not exceed {es_query.MAX_RESULT_WINDOW}"
                " on Elasticsearch; narrow the filters"
            )
        body = es_query.incident_search_body(q)
        try:
            resp = self.client.search(
                index=self.names.records(Incident.kind),
                query=body["query"],
                sort=body["sort"],
                from_=body["from"],
                size=body["size"],
                track_total_hits=True,
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        except (ApiError, TransportError) as exc:
            raise store_error("listing incidents", exc) from None
        hits = resp["hits"]["hits"]
        tiers = {
            h["_id"]: Tier(tier)
            for h in hits
            if (tier := (h["_source"].get("listing") or {}).get("tier"))
        }
        return IncidentPage(
            total=int(resp["hits"]["total"]["value"]),
            incidents=[Incident.model_validate(h["_source"]["doc"]) for h in hits],
            tiers=tiers,
        )

    def count(self, cls: type[Record]) -> int:
        return self.count_index(self.names.records(cls.kind))

    def count_index(self, index: str) -> int:
        try:
            resp = self.client.count(index=index, ignore_unavailable=True, allow_no_indices=True)
        except (ApiError, TransportError) as exc:
            raise store_error(f"counting {index}", exc) from None
        return int(resp["count"])

    # -- key/value state -----------------------------------------------------------------
    def get_state(self, key: str) -> Any | None:
        try:
            doc = self.client.get(index=self.names.state, id=key)
        except ESNotFoundError:
            return None
        except (ApiError, TransportError) as exc:
            raise store_error(f"reading state {key!r}", exc) from None
        return doc["_source"].get("value")

    def set_state(self, key: str, value: Any) -> None:
        # Same JSON round trip as the SQLite backend (datetimes and the like become strings).
        plain = orjson.loads(orjson.dumps(value, default=str))
        try:
            self.client.index(
                index=self.names.state,
                id=key,
                document={"key": key, "value": plain, "updated_at": datetime.now(UTC).isoformat()},
                **self.writer.refresh_kw(),
            )
        except (ApiError, TransportError) as exc:
            raise store_error(f"saving state {key!r}", exc) from None

    def update_state(self, key: str, change: Callable[[Any | None], Any | None]) -> Any | None:
        """Compare-and-set on the state document (``if_seq_no``/``if_primary_term``, or
        ``create`` when absent), retried while another writer wins in between."""
        for _ in range(_STATE_RETRIES):
            try:
                try:
                    doc = self.client.get(index=self.names.state, id=key)
                    old, guard = (
                        doc["_source"].get("value"),
                        {
                            "if_seq_no": doc["_seq_no"],
                            "if_primary_term": doc["_primary_term"],
                        },
                    )
                except ESNotFoundError:
                    old, guard = None, None
                value = change(old)
                plain = orjson.loads(orjson.dumps(value, default=str))
                refresh = self.writer.refresh_kw()
                if value is None:
                    if guard is not None:
                        self.client.delete(index=self.names.state, id=key, **guard, **refresh)
                    return None
                document = {"key": key, "value": plain, "updated_at": datetime.now(UTC).isoformat()}
                if guard is None:
                    self.client.create(index=self.names.state, id=key, document=document, **refresh)
                else:
                    self.client.index(
                        index=self.names.state, id=key, document=document, **guard, **refresh
                    )
                return plain
            except ESConflictError:
                continue  # another writer came in between: read again
            except ESNotFoundError:
                continue  # deleted in between
            except (ApiError, TransportError) as exc:
                raise store_error(f"saving state {key!r}", exc) from None
        raise StoreError(f"state {key!r} is changed too often by others; try again")
