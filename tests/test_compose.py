"""docker-compose.yml is checked here, since no Docker engine runs where Tingfeng is built.

The schema in ``tests/files/compose-spec.json`` is the compose-spec project's JSON schema
(Apache-2.0) as shipped in the ``docker-compose`` 1.29.2 wheel on PyPI
(``compose/config/compose_spec.json``), unmodified. Formats (``duration``) are annotations
there and are not asserted, as in Compose itself.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "files" / "compose-spec.json").read_text("utf-8"))
PASSWORD_REF = "${ELASTIC_PASSWORD:?set ELASTIC_PASSWORD}"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))


def errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft201909Validator(SCHEMA)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
    ]


def test_schema_is_a_valid_schema() -> None:
    jsonschema.Draft201909Validator.check_schema(SCHEMA)
    assert SCHEMA["title"] == "Compose Specification"


def test_compose_file_follows_the_compose_spec(compose: dict[str, Any]) -> None:
    assert errors(compose) == []


def test_the_schema_does_reject_mistakes(compose: dict[str, Any]) -> None:
    bad = copy.deepcopy(compose)
    bad["services"]["api"]["helthcheck"] = bad["services"]["api"].pop("healthcheck")
    assert any("helthcheck" in e for e in errors(bad))
    bad = copy.deepcopy(compose)
    bad["services"]["api"]["depends_on"]["elasticsearch"]["condition"] = "healthy"
    assert errors(bad)


def test_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"elasticsearch", "api", "scheduler"}
    assert services["api"]["command"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert services["scheduler"]["command"] == ["scheduler"]
    assert set(compose["volumes"]) == {"es-data", "tingfeng-data"}


def test_elasticsearch_single_node_with_security(compose: dict[str, Any]) -> None:
    es = compose["services"]["elasticsearch"]
    assert re.match(
        r"docker\.elastic\.co/elasticsearch/elasticsearch:\$\{ELASTIC_VERSION:-8\.", es["image"]
    )
    env = es["environment"]
    assert env["discovery.type"] == "single-node"
    assert env["xpack.security.enabled"] == "true"
    assert env["ELASTIC_PASSWORD"] == PASSWORD_REF
    assert "-Xms" in env["ES_JAVA_OPTS"] and "-Xmx" in env["ES_JAVA_OPTS"]
    assert "es-data:/usr/share/elasticsearch/data" in es["volumes"]
    assert es["ports"] == ["127.0.0.1:9200:9200"]  # not reachable from other hosts


def test_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        check = service["healthcheck"]
        assert check["test"] and not check.get("disable"), name
        assert {"interval", "timeout", "retries"} <= set(check), name
    es_test = " ".join(services["elasticsearch"]["healthcheck"]["test"])
    assert "_cluster/health" in es_test and "curl" in es_test
    # Compose turns $$ into $, so the container's shell reads the password from its env.
    assert '-u "elastic:$${ELASTIC_PASSWORD}"' in es_test
    for name in ("api", "scheduler"):
        assert services[name]["depends_on"] == {"elasticsearch": {"condition": "service_healthy"}}


def test_app_services_use_the_elasticsearch_store(compose: dict[str, Any]) -> None:
    for name in ("api", "scheduler"):
        service = compose["services"][name]
        env = service["environment"]
        assert env["TINGFENG_STORE__BACKEND"] == "elasticsearch"
        assert env["TINGFENG_STORE__URL"] == "http://elasticsearch:9200"
        assert env["TINGFENG_STORE__USERNAME"] == "elastic"
        assert env["TINGFENG_STORE__PASSWORD"] == PASSWORD_REF
        assert service["build"]["context"] == "."
        assert "./config:/config:ro" in service["volumes"]
        assert "tingfeng-data:/data" in service["volumes"]


def test_no_password_is_hard_coded(compose: dict[str, Any]) -> None:
    def walk(node: Any, path: str = "") -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if "PASSWORD" in str(key).upper():
                    assert isinstance(value, str) and value.startswith("${"), f"{path}.{key}"
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
        elif isinstance(node, str):
            # user:password in a URL or a -u flag must come from a variable
            for secret in re.findall(r"(?:elastic|-u\s*\"?\w+):([^@\s\"]+)", node):
                assert secret.startswith("$"), f"{path}: {node}"

    walk(compose)
    text = (ROOT / "docker-compose.yml").read_text("utf-8").lower()
    assert "changeme" not in text


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert re.search(r"pip install (--no-deps )?\.", text)
    assert 'ENTRYPOINT ["tingfeng"]' in text
    assert "USER tingfeng" in text
