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
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "files" / "compose-spec.json").read_text("utf-8"))
PASSWORD_REF = "${ELASTIC_PASSWORD:?set ELASTIC_PASSWORD}"
SECRET_REF = "${TINGFENG_API_SECRET_KEY:?set TINGFENG_API_SECRET_KEY}"
#: Keys whose values are secrets: they must come from the environment (``${VAR:?...}``).
SECRET_KEY_WORDS = ("PASSWORD", "SECRET", "TOKEN", "API_KEY")


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
    assert set(services) == {"elasticsearch", "api", "worker"}
    assert set(compose["volumes"]) == {"es-data", "es-snapshots", "tingfeng-data"}


def test_api_serves_without_scheduling(compose: dict[str, Any]) -> None:
    command = compose["services"]["api"]["command"]
    assert command[:5] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    # Several API processes may share a store; none of them schedules jobs.
    assert "--no-scheduler" in command
    assert command[command.index("--workers") + 1] == "${API_WORKERS:-2}"
    assert compose["services"]["api"]["ports"] == ["127.0.0.1:8000:8000"]
    assert "replicas" not in compose["services"]["api"].get("deploy", {})  # one host port


def test_exactly_one_worker(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert worker["command"] == ["worker"]
    assert worker["deploy"]["replicas"] == 1
    # Nothing else schedules: no other service runs the worker or serves with a scheduler.
    for name, service in compose["services"].items():
        command = service.get("command") or []
        if name != "worker":
            assert "worker" not in command, name
            assert command[:1] != ["serve"] or "--no-scheduler" in command, name
    # Its job store, and so its lock, is on the shared data volume, not the read-only /config.
    jobstore = worker["environment"]["TINGFENG_ALERTING__SCHEDULE__JOBSTORE"]
    assert jobstore == "/data/scheduler.db"
    assert f"{jobstore}.lock" in worker["healthcheck"]["test"][-1]
    assert "flock" in worker["healthcheck"]["test"][-1]


def test_worker_healthcheck_script_is_valid_python(compose: dict[str, Any]) -> None:
    compile(compose["services"]["worker"]["healthcheck"]["test"][-1], "healthcheck", "exec")
    compile(compose["services"]["api"]["healthcheck"]["test"][-1], "healthcheck", "exec")


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
    assert "/healthz" in services["api"]["healthcheck"]["test"][-1]
    for name in ("api", "worker"):
        assert services[name]["depends_on"] == {"elasticsearch": {"condition": "service_healthy"}}


def test_app_services_use_the_elasticsearch_store(compose: dict[str, Any]) -> None:
    for name in ("api", "worker"):
        service = compose["services"][name]
        env = service["environment"]
        assert env["TINGFENG_STORE__BACKEND"] == "elasticsearch"
        assert env["TINGFENG_STORE__URL"] == "http://elasticsearch:9200"
        assert env["TINGFENG_STORE__USERNAME"] == "elastic"
        assert env["TINGFENG_STORE__PASSWORD"] == PASSWORD_REF
        assert env["TINGFENG_API__SECRET_KEY"] == SECRET_REF
        assert service["build"]["context"] == "."
        assert "./config:/config:ro" in service["volumes"]
        assert "tingfeng-data:/data" in service["volumes"]


def test_no_password_is_hard_coded(compose: dict[str, Any]) -> None:
    def walk(node: Any, path: str = "") -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if any(word in str(key).upper() for word in SECRET_KEY_WORDS):
                    assert isinstance(value, str), f"{path}.{key}"
                    # required from the environment, never a default written here
                    assert re.fullmatch(r"\$\{\w+:\?[^}]*\}", value), f"{path}.{key}"
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
    for line in text.splitlines():
        # no "KEY=value" or "KEY: value" secret literal, even in comments
        match = re.search(r"(password|secret)[\w.]*\s*[:=]\s*['\"]?([^\s'\"]+)", line)
        if match and not line.lstrip().startswith("#"):
            assert match.group(2).startswith(("$", "${")), line


def test_no_secret_in_the_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert not re.search(r"(?i)^\s*(ENV|ARG)\s+\S*(PASSWORD|SECRET)", text, re.MULTILINE)


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert re.search(r"pip install (--no-deps )?\.", text)
    assert 'ENTRYPOINT ["tingfeng"]' in text
    assert "USER tingfeng" in text
    # The entry point the image calls is the one the package declares.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["scripts"]["tingfeng"] == "tingfeng.cli:main"
    # Every file the image copies before installing exists.
    for copied in re.findall(r"^COPY (.+) \./?$", text, re.MULTILINE):
        for name in copied.split():
            assert name == "." or (ROOT / name).exists(), name


def registered_commands() -> dict[str, Any]:
    import typer.main

    from tingfeng.cli import app

    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("service", ["api", "worker"])
def test_compose_commands_exist(compose: dict[str, Any], service: str) -> None:
    name = compose["services"][service]["command"][0]
    module = {"serve": "serve", "worker": "worker"}[name]
    if not (ROOT / "tingfeng" / "cli" / f"{module}.py").exists():
        pytest.skip(f"tingfeng {name} arrives with another branch (tingfeng/cli/{module}.py)")
    command = registered_commands().get(name)
    assert command is not None, f"tingfeng {name}: no such command"
    # and every option the service passes is one of the command's
    options = {opt for param in command.params for opt in param.opts}
    for arg in compose["services"][service]["command"][1:]:
        if arg.startswith("--"):
            assert arg in options, f"tingfeng {name}: no option {arg}"


def test_dockerfile_default_command_runs() -> None:
    # CMD ["--help"] after ENTRYPOINT ["tingfeng"]: `tingfeng --help` must succeed.
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert 'CMD ["--help"]' in text
    from typer.testing import CliRunner

    from tingfeng.cli import app

    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0 and "backup" in result.output
