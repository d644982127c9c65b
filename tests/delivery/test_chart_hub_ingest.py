"""hub-ingest in charts/qsr-platform: the POS webhook app as a component of its own, on the hub's
settings and database, with its own autoscaling, disruption budget and network policy; and the
app itself serving a signed webhook from store config laid out as the kubelet mounts a Secret."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from qsr_hub import ingest_main
from qsr_hub.domain import signatures
from qsr_hub.settings import HubSettings
from tests.delivery.chart import ROOT, Manifest, helm, named, of_kind, render, template_args

NAME = "qsr-hub-ingest"
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@pytest.fixture(scope="module")
def configured() -> list[Manifest]:
    return render(
        "--set", "postgres.existingSecret=qsr-postgres",
        "--set", "storeConfig.existingSecret=qsr-stores",
        "--set", "networkPolicy.ingressNamespaces={ingress-nginx}",
        "--set", "networkPolicy.metricsNamespaces={monitoring}",
    )  # fmt: skip


def container_of(manifests: list[Manifest], name: str) -> dict[str, Any]:
    spec = named(manifests, "Deployment", name)["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    found: dict[str, Any] = container
    return found


def env_of(manifests: list[Manifest], name: str) -> dict[str, dict[str, Any]]:
    return {env["name"]: env for env in container_of(manifests, name)["env"]}


def selects(policy: Manifest, labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        value = labels.get(expression["key"])
        if expression["operator"] == "In" and value not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and value in expression["values"]:
            return False
    return True


def policies_of(manifests: list[Manifest], name: str) -> list[Manifest]:
    labels = named(manifests, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
    return [p for p in of_kind(manifests, "NetworkPolicy") if selects(p, labels)]


def egress_ports(policies: list[Manifest]) -> set[int]:
    return {
        port["port"]
        for policy in policies
        for rule in policy["spec"].get("egress") or []
        for port in rule.get("ports", [])
    }


def test_hub_ingest_serves_the_webhook_app_on_the_service_port(
    configured: list[Manifest],
) -> None:
    container = container_of(configured, NAME)
    assert container["command"] == ["qsr", "serve", "hub-ingest"]
    assert container["args"] == ["--host", "0.0.0.0", "--port", "8080"]
    service = named(configured, "Service", NAME)
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["selector"]["app.kubernetes.io/name"] == NAME


def test_hub_ingest_reads_the_hubs_database_secret_key(configured: list[Manifest]) -> None:
    url = env_of(configured, NAME)["QSR_HUB_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert url == {"name": "qsr-postgres", "key": "hub-database-url"}


def test_every_env_var_name_is_valid_and_hub_ingest_uses_only_the_hub_prefix(
    configured: list[Manifest],
) -> None:
    for deployment in of_kind(configured, "Deployment"):
        name = deployment["metadata"]["name"]
        assert all(ENV_NAME.match(n) for n in env_of(configured, name)), name
    ours = {n for n in env_of(configured, NAME) if n.startswith("QSR_")}
    assert ours == {"QSR_LOG_FORMAT", "QSR_HUB_DATABASE_URL", "QSR_HUB_CONFIG_DIR"}


def test_store_config_secret_is_mounted_read_only_into_the_hub_and_hub_ingest(
    configured: list[Manifest],
) -> None:
    for name in ("qsr-hub", NAME):
        container = container_of(configured, name)
        mount = next(m for m in container["volumeMounts"] if m["name"] == "store-config")
        assert mount["readOnly"] is True
        assert env_of(configured, name)["QSR_HUB_CONFIG_DIR"]["value"] == mount["mountPath"]
        volumes = named(configured, "Deployment", name)["spec"]["template"]["spec"]["volumes"]
        secret = next(v["secret"] for v in volumes if v["name"] == "store-config")
        assert secret["secretName"] == "qsr-stores"
    assert "QSR_HUB_CONFIG_DIR" not in env_of(configured, "qsr-ordering")


def test_no_store_config_is_mounted_unless_a_secret_is_named() -> None:
    rendered = render()
    assert "QSR_HUB_CONFIG_DIR" not in env_of(rendered, NAME)
    assert [m["name"] for m in container_of(rendered, NAME)["volumeMounts"]] == ["tmp"]


def test_hub_ingest_autoscales_on_cpu_with_the_values_bounds() -> None:
    rendered = render(
        "--set", "services.hubIngest.autoscaling.minReplicas=3",
        "--set", "services.hubIngest.autoscaling.maxReplicas=20",
    )  # fmt: skip
    assert "replicas" not in named(rendered, "Deployment", NAME)["spec"]
    hpa = named(rendered, "HorizontalPodAutoscaler", NAME)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": NAME,
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 20)
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_hub_ingest_disruption_budget_selects_its_pods(configured: list[Manifest]) -> None:
    pdb = named(configured, "PodDisruptionBudget", NAME)
    deployment = named(configured, "Deployment", NAME)
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["maxUnavailable"] == 1


def test_hub_ingest_has_its_own_least_privilege_service_account(
    configured: list[Manifest],
) -> None:
    spec = named(configured, "Deployment", NAME)["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == NAME
    assert spec["automountServiceAccountToken"] is False
    account = named(configured, "ServiceAccount", NAME)
    assert account["automountServiceAccountToken"] is False
    bound = {s["name"] for b in of_kind(configured, "RoleBinding") for s in b["subjects"]}
    assert NAME not in bound


def test_irsa_role_of_hub_ingest_is_annotated_on_its_account() -> None:
    arn = "arn:aws:iam::123456789012:role/qsr-prod-hub-ingest"
    account = named(render("--set", f"irsa.hubIngest={arn}"), "ServiceAccount", NAME)
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == arn


def test_schema_rejects_an_unknown_hub_ingest_key() -> None:
    result = helm(*template_args("--set", "services.hubIngest.replicas=3"), check=False)
    assert result.returncode != 0
    assert "additional properties 'replicas' not allowed" in result.stderr


def test_hub_ingest_egress_is_only_dns_and_postgres(configured: list[Manifest]) -> None:
    assert egress_ports(policies_of(configured, NAME)) == {53, 5432}


def test_hub_ingest_ingress_is_the_ingress_and_metrics_namespaces_on_its_port(
    configured: list[Manifest],
) -> None:
    policy = named(configured, "NetworkPolicy", NAME)
    sources = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in policy["spec"]["ingress"]
        for peer in rule["from"]
    }
    assert sources == {"ingress-nginx", "monitoring"}
    ports = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert ports == {8080}
    allowing = [
        p["metadata"]["name"] for p in policies_of(configured, NAME) if p["spec"].get("ingress")
    ]
    assert allowing == [NAME]


def test_the_hub_keeps_kafka_services_and_internet_egress(configured: list[Manifest]) -> None:
    assert egress_ports(policies_of(configured, "qsr-hub")) == {
        53,
        443,
        5432,
        6379,
        8080,
        9092,
        9098,
    }


def test_disabling_hub_ingest_removes_all_its_objects() -> None:
    rendered = render("--set", "services.hubIngest.enabled=false")
    assert [m["kind"] for m in rendered if m["metadata"]["name"] == NAME] == []


def test_service_monitor_scrapes_hub_ingest() -> None:
    rendered = render("--api-versions", "monitoring.coreos.com/v1/ServiceMonitor")
    expressions = named(rendered, "ServiceMonitor", "qsr-services")["spec"]["selector"]
    components = next(
        e["values"]
        for e in expressions["matchExpressions"]
        if e["key"] == "app.kubernetes.io/component"
    )
    assert "hub-ingest" in components


def kubelet_secret_volume(target: Path, files: dict[str, str]) -> Path:
    """A Secret volume as the kubelet lays it out: a timestamped folder, `..data` pointing at it,
    and one symlink per key through `..data`."""
    target.mkdir()
    stamped = target / "..2026_11_25_12_00_00.000000001"
    stamped.mkdir()
    for key, text in files.items():
        (stamped / key).write_text(text)
    (target / "..data").symlink_to(stamped.name)
    for key in files:
        (target / key).symlink_to(f"..data/{key}")
    return target


async def test_hub_ingest_keeps_a_signed_webhook_with_config_from_a_mounted_secret(
    tmp_path: Path,
) -> None:
    examples = ("program.yaml", "stores.yaml", "secrets.yaml")
    folder = kubelet_secret_volume(
        tmp_path / "store-config",
        {name: (ROOT / "examples" / name).read_text() for name in examples},
    )
    settings = HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", config_dir=folder)
    app = ingest_main.create_app(settings, clock=lambda: datetime.now(UTC))
    body = json.dumps({"eventType": "not-a-sale"}).encode()
    sent = int(time.time())
    headers = {
        "content-type": "application/json",
        signatures.TIMESTAMP_HEADER: str(sent),
        signatures.SIGNATURE_HEADER: signatures.signature_of(
            b"dev-only-store-0001-webhook", timestamp=sent, body=body
        ),
    }
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://i") as client,
    ):
        ready = await client.get("/readyz")
        answer = await client.post("/v1/pos/store-0001/events", content=body, headers=headers)
        unknown = await client.post("/v1/pos/store-9999/events", content=body, headers=headers)
    assert ready.status_code == 200, ready.text
    # Signature verified with the mounted secret, body checked, kept (400 names the field).
    assert answer.status_code == 400, answer.text
    assert answer.json()["keptAs"]
    assert unknown.status_code == 404
