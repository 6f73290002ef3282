"""Installing, upgrading and removing the index layout described in :mod:`store.es_mappings`."""

from __future__ import annotations

from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers
from elasticsearch import NotFoundError as ESNotFoundError

from models import Alert, Bulletin, Incident
from store.base import StoreError
from store.es_client import store_error
from store.es_mappings import (
    MAPPING_VERSION,
    RECORDS_MAPPING,
    SNAPSHOTS_MAPPING,
    STATE_MAPPING,
    IndexNames,
    fixed_index_body,
    posts_template,
)
from store.incident_fields import current_alert, incident_fields


class Schema:
    """The templates and fixed indices of one index prefix."""

    def __init__(
        self, client: Elasticsearch, names: IndexNames, *, replicas: int | None = None
    ) -> None:
        self.client = client
        self.names = names
        self.replicas = replicas
        self._ready: set[str] = set()

    def ensure(self) -> None:
        """Install the index template and create the fixed indices; idempotent.

        Refuses to run against indices written by a newer Tingfeng (higher mapping version);
        a fixed index from an older version is reindexed into the current one and its alias
        swapped atomically.
        """
        names = self.names
        try:
            try:
                found = self.client.indices.get_index_template(name=names.posts_template)
                stored = found["index_templates"][0]["index_template"].get("version") or 0
            except ESNotFoundError:
                stored = 0
            if stored > MAPPING_VERSION:
                raise StoreError(
                    f"elasticsearch: index template {names.posts_template} has mapping version "
                    f"{stored}, newer than this Tingfeng supports ({MAPPING_VERSION}); upgrade"
                )
            self.client.indices.put_index_template(
                name=names.posts_template, **posts_template(names, replicas=self.replicas)
            )
            self._ensure_fixed(names.snapshots, SNAPSHOTS_MAPPING)
            self._ensure_fixed(names.state, STATE_MAPPING)
            for cls in (Incident, Alert, Bulletin):
                self._ensure_fixed(names.records(cls.kind), RECORDS_MAPPING)
        except (ApiError, TransportError) as exc:
            raise store_error("setting up indices", exc) from None

    def ensure_records(self, kind: str) -> str:
        """The alias of a record kind's index, creating the index on first use."""
        alias = self.names.records(kind)
        if alias not in self._ready:
            try:
                self._ensure_fixed(alias, RECORDS_MAPPING)
            except (ApiError, TransportError) as exc:
                raise store_error(f"creating the {kind} index", exc) from None
        return alias

    def _ensure_fixed(self, alias: str, mapping: dict[str, Any]) -> None:
        if alias in self._ready:
            return
        target = IndexNames.versioned(alias)
        try:
            current = list(self.client.indices.get_alias(name=alias))
        except ESNotFoundError:
            current = []
        if target not in current:
            versions = {i: int(i.rsplit("-v", 1)[-1]) for i in current if "-v" in i}
            newer = [i for i, v in versions.items() if v > MAPPING_VERSION]
            if newer:
                raise StoreError(
                    f"elasticsearch: {newer[0]} was written by a newer Tingfeng "
                    f"(mapping version > {MAPPING_VERSION}); upgrade"
                )
            body = fixed_index_body(mapping, replicas=self.replicas)
            if not current:
                try:
                    self.client.indices.create(index=target, aliases={alias: {}}, **body)
                except ApiError as exc:
                    if "resource_already_exists" not in str(exc):
                        raise
            else:
                self.client.indices.create(index=target, **body)
                self.client.reindex(
                    source={"index": alias},
                    dest={"index": target},
                    wait_for_completion=True,
                    refresh=True,
                )
                if alias == self.names.records(Incident.kind):
                    self._backfill_listing(target)
                self.client.indices.update_aliases(
                    actions=[{"remove": {"index": i, "alias": alias}} for i in current]
                    + [{"add": {"index": target, "alias": alias}}]
                )
        self._ready.add(alias)

    def _backfill_listing(self, index: str) -> None:
        """Give every incident copied from an older layout its ``listing`` fields (computed
        in Python, as a save computes them) and its current tier (from every stored alert),
        before the alias moves to ``index``."""
        tiers = self._current_tiers()

        def listing(hit: dict[str, Any]) -> dict[str, Any]:
            fields = incident_fields(Incident.model_validate(hit["_source"]["doc"]))
            if hit["_id"] in tiers:
                fields["tier"] = tiers[hit["_id"]]
            return fields

        actions = (
            {
                "_op_type": "update",
                "_index": index,
                "_id": hit["_id"],
                "doc": {"listing": listing(hit)},
            }
            for hit in helpers.scan(
                self.client,
                index=index,
                query={"query": {"match_all": {}}},
                source_includes=["doc"],
            )
        )
        helpers.bulk(self.client, actions, chunk_size=500, refresh=True)

    def _current_tiers(self) -> dict[str, str]:
        """Each alerted incident's current tier, from one scan of the stored alerts."""
        by_incident: dict[str, list[Alert]] = {}
        alias = self.names.records(Alert.kind)
        if not self.client.indices.exists(index=alias):
            return {}
        for hit in helpers.scan(
            self.client, index=alias, query={"query": {"match_all": {}}}, source_includes=["doc"]
        ):
            alert = Alert.model_validate(hit["_source"]["doc"])
            if alert.incident_id:
                by_incident.setdefault(alert.incident_id, []).append(alert)
        out = {}
        for incident_id, alerts in by_incident.items():
            chosen = current_alert(alerts)
            if chosen is not None:
                out[incident_id] = chosen.tier.value
        return out

    def refresh_all(self) -> None:
        """Make every write so far visible to search."""
        self.client.indices.refresh(
            index=",".join(self.names.all_patterns()),
            ignore_unavailable=True,
            allow_no_indices=True,
        )

    def drop_all(self) -> None:
        """Delete every index and the template of this prefix."""
        names = self.names
        self._ready.clear()
        opts = self.client.options(ignore_status=404)
        # Deleting by wildcard is refused by default (action.destructive_requires_name), so
        # resolve the patterns to concrete names first.
        found = self.client.indices.get(
            index=",".join(names.all_patterns()),
            expand_wildcards="all",
            allow_no_indices=True,
            ignore_unavailable=True,
            features="aliases",
        )
        indices = sorted(found)
        for start in range(0, len(indices), 50):
            opts.indices.delete(index=",".join(indices[start : start + 50]))
        opts.indices.delete_index_template(name=names.posts_template)
