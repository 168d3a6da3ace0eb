"""The deployment files (spec §14) have the shape they promise, checked offline: the kustomize
output as `kubectl kustomize` renders it, and deploy/compose.yaml parsed as YAML."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cli import main
from gateway.config.load import load_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBECTL = shutil.which("kubectl") or ("/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists()
                                     else None)
BUILT_IN = ("sugarcrm", "slingr", "dataservice")
SECRET_KEYS = {"password", "clientSecret", "apiKey", "secretKey", "REDIS_PASSWORD"}


def _dockerfile_user() -> str:
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    return users[-1].split(":")[0]


def _walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [kv for k, v in node.items() for kv in _walk(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [kv for i, v in enumerate(node) for kv in _walk(v, f"{path}[{i}]")]
    return [(path, node)]


def _literal_secrets(doc: Any) -> list[str]:
    """Secret-looking keys whose value is not (only) a ${VAR} reference."""
    return [path for path, value in _walk(doc)
            if (path.rsplit(".", 1)[-1] in SECRET_KEYS or path == ".state.url")
            and isinstance(value, str) and value
            and not re.fullmatch(r"(redis://:)?\$\{[A-Z0-9_]+\}(@[a-z0-9.:/-]+)?", value)]


def _references(text: str) -> set[str]:
    """The ${VAR}s the config's values use (comments left out)."""
    return {name for _, value in _walk(yaml.safe_load(text)) if isinstance(value, str)
            for name in re.findall(r"\$\{([A-Z0-9_]+)", value)}


def _check_config(path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> Any:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["check-config", str(path)]) == 0, capsys.readouterr().err
    return load_config(str(path))


# -- Kubernetes ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, Any]]:
    if KUBECTL is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is needed to render deploy/kubernetes under CI", pytrace=False)
        pytest.skip("kubectl not installed: cannot render deploy/kubernetes (kubectl kustomize)")
    out = subprocess.run([KUBECTL, "kustomize", str(DEPLOY / "kubernetes")], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    kinds = [d["kind"] for d in docs]
    assert len(kinds) == len(set(kinds)), kinds
    return {d["kind"]: d for d in docs}


def _container(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    containers = rendered["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def test_kubernetes_has_every_piece(rendered: dict[str, dict[str, Any]]) -> None:
    assert set(rendered) == {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
                             "HorizontalPodAutoscaler"}
    assert "Secret" not in rendered  # secrets are referenced, never shipped


def test_deployment_runs_two_replicas_of_the_project_image(
        rendered: dict[str, dict[str, Any]]) -> None:
    deployment = rendered["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    assert _container(rendered)["image"].split(":")[0] == "recordgate"  # the Dockerfile's tag
    assert rendered["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2
    target = rendered["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])


def test_probes_point_at_healthz_and_readyz(rendered: dict[str, dict[str, Any]]) -> None:
    container = _container(rendered)
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["livenessProbe"]["httpGet"]["port"] in ports
    assert container["readinessProbe"]["httpGet"]["port"] in ports
    assert container["resources"]["requests"] and container["resources"]["limits"]


def test_pods_run_as_the_images_non_root_user(rendered: dict[str, dict[str, Any]]) -> None:
    pod = rendered["Deployment"]["spec"]["template"]["spec"]["securityContext"]
    container = _container(rendered)["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert str(pod["runAsUser"]) == _dockerfile_user() != "0"
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]


def test_service_and_budget_select_the_gateway_pods(rendered: dict[str, dict[str, Any]]) -> None:
    labels = rendered["Deployment"]["spec"]["template"]["metadata"]["labels"]
    for selector in (rendered["Service"]["spec"]["selector"],
                     rendered["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]):
        assert selector and all(labels.get(k) == v for k, v in selector.items())
    ports = {p["name"] for p in _container(rendered)["ports"]}
    assert {p["targetPort"] for p in rendered["Service"]["spec"]["ports"]} <= ports
    assert rendered["PodDisruptionBudget"]["spec"]["minAvailable"] >= 1


def test_the_mounted_config_is_valid_and_wired_to_secrets(
    rendered: dict[str, dict[str, Any]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    container = _container(rendered)
    pod = rendered["Deployment"]["spec"]["template"]["spec"]
    config_map = rendered["ConfigMap"]
    volume = next(v for v in pod["volumes"] if "configMap" in v)
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]  # hash suffix included
    mount = next(m for m in container["volumeMounts"] if m["name"] == volume["name"])
    assert " ".join(container["args"]).endswith(f"--config {mount['mountPath']}")

    text = config_map["data"][mount["subPath"]]
    assert _literal_secrets(yaml.safe_load(text)) == []
    from_secret = {e["name"] for e in container["env"] if "valueFrom" in e}
    assert all(e["valueFrom"]["secretKeyRef"]["name"] == "recordgate-secrets"
               for e in container["env"] if "valueFrom" in e)
    env = {e["name"]: e.get("value", "x-secret") for e in container["env"]}
    env["REDIS_URL"] = "redis://:pw@redis:6379/0"
    env["STATE_SECRET_KEY"] = "x-secret-of-16-chars"
    referenced = _references(text)
    assert referenced <= set(env), f"not set by the Deployment: {referenced - set(env)}"
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    config = _check_config(path, env, monkeypatch, capsys)
    # Every secret of the config comes from the Secret, none from a plain env value.
    assert {"GATEWAY_API_KEY", "REDIS_URL", "STATE_SECRET_KEY", "SUGAR_PASSWORD"} <= from_secret
    assert config.state.backend == "redis"  # replicas share state
    grace = pod["terminationGracePeriodSeconds"]
    assert grace >= config.server.drainTimeout + config.server.requestTimeout + 5  # + preStop


# -- compose -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return doc


def test_compose_runs_two_replicas_behind_a_load_balancer(compose: dict[str, Any]) -> None:
    services = compose["services"]
    gateway = services["gateway"]
    assert gateway["deploy"]["replicas"] == 2
    assert gateway["build"]["context"] == ".." and gateway["build"]["dockerfile"] == "Dockerfile"
    assert gateway["image"].split(":")[0] == "recordgate"
    assert services["redis"]["image"].startswith("redis:")
    lb = services["lb"]
    assert lb["image"].split(":")[0] in ("nginx", "haproxy", "envoyproxy/envoy")
    for mount in lb["volumes"]:
        assert (DEPLOY / mount.split(":")[0]).is_file()
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "server gateway:8080" in nginx
    grace = int(gateway["stop_grace_period"].rstrip("s"))
    assert grace >= 25 + 60  # server.drainTimeout + server.requestTimeout


def test_compose_runs_the_three_emulators_from_the_same_image(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in BUILT_IN:
        service = services[name]
        assert service["command"][:2] == ["emulator", name]
        assert service["image"] == services["gateway"]["image"]


def test_compose_secrets_come_from_an_ignored_env_file(
    compose: dict[str, Any], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    gateway = compose["services"]["gateway"]
    assert gateway["env_file"] == [".env"]
    ignored = subprocess.run(["git", "check-ignore", "-q", "deploy/.env"], cwd=ROOT)
    assert ignored.returncode == 0, "deploy/.env must be git-ignored"
    example = dict(line.split("=", 1) for line in (DEPLOY / ".env.example").read_text()
                   .splitlines() if line and not line.startswith("#"))
    assert _literal_secrets(compose) == []
    mount = next(v for v in gateway["volumes"] if v.endswith(":/etc/recordgate/gateway.yaml:ro"))
    config_path = DEPLOY / mount.split(":")[0]
    assert " ".join(gateway["command"]).startswith("serve --config /etc/recordgate/gateway.yaml")
    raw = config_path.read_text()
    assert _literal_secrets(yaml.safe_load(raw)) == []
    referenced = _references(raw)
    assert referenced <= set(example), f"not in .env.example: {referenced - set(example)}"
    config = _check_config(config_path, example, monkeypatch, capsys)
    assert config.state.backend == "redis"
    assert config.state.workers_problem(2) is None
    hosts = {str(s.baseUrl).split("/")[2].split(":")[0] for s in config.sources.values()}
    assert hosts == set(BUILT_IN)  # each source is its emulator service
