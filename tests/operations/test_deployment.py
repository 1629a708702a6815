"""The deployment files hold together: compose stack, Kubernetes manifests, CI and dependency updates."""

import json
import os
import re
import secrets
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from gateway.crypto.signing_keys import new_signing_key
from gateway.settings import ENV_PREFIX, WELL_KNOWN_ENV, Settings, load_settings
from tests.conftest import REPO

COMPOSE = REPO / "docker-compose.yml"
K8S = REPO / "deploy" / "k8s"


# Every secret the deployment files ask the operator for, filled in as the operator is told to fill it.
FILLED_SECRETS = {
    "LANGO_AUTH__SIGNING_KEYS": json.dumps({"keys": [new_signing_key()]}),
    "LANGO_AUTH__TOTP_ENCRYPTION_KEY": secrets.token_urlsafe(32),
    "LANGO_TICKETS__KEY_ENCRYPTION_KEY": secrets.token_urlsafe(32),
    "LANGO_STORAGE__LOCAL__SIGNING_SECRET": secrets.token_urlsafe(32),
}
_COMPOSE_VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(COMPOSE.read_text())


def _manifests() -> list[dict]:  # type: ignore[type-arg]
    return [document for path in sorted(K8S.glob("*.yaml")) for document in yaml.safe_load_all(path.read_text()) if document]


def test_the_compose_stack_has_every_part_in_start_order() -> None:
    services = _compose()["services"]
    assert {"mongodb", "mongodb-init", "redis", "migrate", "gateway", "worker", "caddy"} <= set(services)
    assert "--replSet" in services["mongodb"]["command"]
    assert "rs.initiate" in "\n".join(services["mongodb-init"]["command"])
    assert services["gateway"]["deploy"]["replicas"] == 2
    for name in ("gateway", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "replicaSet=rs0" in services[name]["environment"]["MONGODB_URL"]
    assert services["migrate"]["command"] == ["lango", "migrate"]
    assert services["worker"]["command"] == ["lango", "worker"]
    assert "443:443" in services["caddy"]["ports"]


def test_the_proxy_passes_to_every_gateway_and_hides_metrics() -> None:
    caddyfile = (REPO / "deploy" / "caddy" / "Caddyfile").read_text()
    assert "reverse_proxy gateway:8080" in caddyfile
    assert "health_uri /readyz" in caddyfile
    assert "respond /metrics 404" in caddyfile


def _compose_command() -> list[str] | None:
    """`docker compose` (v2) when the plugin answers, else a standalone `docker-compose`, else None."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def _settings_in(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a container starts with: the image's production defaults, then its environment, on config.toml."""
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX) or name in WELL_KNOWN_ENV:
            monkeypatch.delenv(name)
    for name, value in {"LANGO_ENVIRONMENT": "production", "LANGO_SANDBOX": "false", **environment}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LANGO_CONFIG", raising=False)
    return load_settings(REPO / "config.toml")


def _interpolated(value: str) -> str:
    def fill(match: re.Match[str]) -> str:
        name, kind, default = match.groups()
        if kind == "-":
            return default
        assert name in FILLED_SECRETS, f"the compose file asks for {name}, which this test does not know how to fill"
        return FILLED_SECRETS[name]

    return _COMPOSE_VARIABLE.sub(fill, value)


def test_the_compose_stack_configures_services_that_start_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = {name: _interpolated(str(value)) for name, value in _compose()["x-lango"]["environment"].items()}
    settings = _settings_in(environment, monkeypatch)
    assert (settings.environment, settings.sandbox, settings.storage.provider) == ("production", False, "local")
    assert f"files-data:{settings.storage.local.root}" in _compose()["x-lango"]["volumes"], "gateways share no files"


def test_kubernetes_pods_filled_in_from_the_secret_template_start_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    template = next(m for m in _manifests() if m["kind"] == "Secret")["stringData"]
    secret = {name: FILLED_SECRETS.get(name, value) for name, value in template.items()}
    pods: list[dict[str, Any]] = [
        m["spec"]["template"]["spec"]["containers"][0] for m in _manifests() if m["kind"] in ("Deployment", "Job")
    ]
    for container in pods:
        environment = {**secret, **{entry["name"]: entry["value"] for entry in container["env"]}}
        with monkeypatch.context() as scoped:
            settings = _settings_in(environment, scoped)
        assert (settings.environment, settings.storage.provider) == ("production", "s3"), container["name"]


@pytest.mark.skipif(_compose_command() is None, reason="neither docker compose nor docker-compose is installed")
def test_docker_compose_validates_the_file() -> None:
    result = subprocess.run(
        [*(_compose_command() or []), "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True, text=True, timeout=60, env={**FILLED_SECRETS, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr


def test_kubernetes_manifests_probe_scale_and_budget_the_gateway() -> None:
    by_kind: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for manifest in _manifests():
        by_kind.setdefault(manifest["kind"], []).append(manifest)
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Job", "Secret"):
        assert kind in by_kind, kind
    gateway = next(d for d in by_kind["Deployment"] if d["metadata"]["name"] == "lango-gateway")
    container = gateway["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {d["metadata"]["name"] for d in by_kind["Deployment"]} == {"lango-gateway", "lango-worker"}
    assert by_kind["Job"][0]["spec"]["template"]["spec"]["containers"][0]["args"] == ["lango", "migrate"]
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["configMapGenerator"][0]["files"] == ["config.toml=../../config.toml"]
    assert "secret.example.yaml" not in kustomization["resources"]


def test_ci_runs_make_test_with_redis_and_dependencies_are_kept_current() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"]["test"]
    assert "redis" in job["services"]
    assert any("make test" in step.get("run", "") for step in job["steps"])
    dependabot = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    assert {update["package-ecosystem"] for update in dependabot["updates"]} == {"uv", "github-actions", "docker"}
