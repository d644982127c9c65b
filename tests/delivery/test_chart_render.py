"""charts/qsr-platform rendered offline: lint, schema, PSS restricted, RBAC, probes, policies."""

from __future__ import annotations

import pytest

from tests.delivery.chart import (
    CHART,
    KUBE_VERSION,
    ROOT,
    Manifest,
    helm,
    named,
    of_kind,
    pod_specs,
    render,
    template_args,
)

SERVICES = ("identity", "ordering", "hub", "hub-ingest")


@pytest.fixture(scope="module")
def manifests() -> list[Manifest]:
    return render()


def test_helm_lint_strict_passes() -> None:
    result = helm("lint", str(CHART), "--strict", "--kube-version", KUBE_VERSION)
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize(
    ("setting", "unknown"),
    [
        pytest.param("replicaCount=3", "replicaCount", id="top-level"),
        pytest.param("operator.replicas=2", "replicas", id="operator"),
        pytest.param("services.hub.autoscaling.max=3", "max", id="service"),
        pytest.param("services.loyalty.enabled=true", "loyalty", id="unknown-service"),
        pytest.param("networkPolicy.allowAll=true", "allowAll", id="network-policy"),
    ],
)
def test_schema_rejects_unknown_keys(setting: str, unknown: str) -> None:
    result = helm(*template_args("--set", setting), check=False)
    assert result.returncode != 0
    assert f"additional properties '{unknown}' not allowed" in result.stderr


def test_schema_rejects_a_wrong_kafka_security_mode() -> None:
    result = helm(*template_args("--set", "kafka.security=sasl-plain"), check=False)
    assert result.returncode != 0
    assert "security" in result.stderr


def test_every_pod_meets_pod_security_restricted(manifests: list[Manifest]) -> None:
    specs = dict(pod_specs(manifests))
    assert set(specs) == {"qsr-operator", *(f"qsr-{s}" for s in SERVICES)}
    for spec in specs.values():
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["enableServiceLinks"] is False
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx["readOnlyRootFilesystem"] is True
            assert ctx["capabilities"]["drop"] == ["ALL"]
            assert "privileged" not in ctx


def test_operator_runs_one_replica_recreated_with_liveness_and_metrics(
    manifests: list[Manifest],
) -> None:
    deployment = named(manifests, "Deployment", "qsr-operator")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {p["name"] for p in container["ports"]} >= {"metrics", "health"}
    assert (
        named(manifests, "Service", "qsr-operator-metrics")["spec"]["ports"][0]["name"] == "metrics"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_service_has_deployment_service_hpa_and_pdb(
    manifests: list[Manifest], service: str
) -> None:
    name = f"qsr-{service}"
    deployment = named(manifests, "Deployment", name)
    assert "replicas" not in deployment["spec"]  # the HPA owns the count
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert (
        named(manifests, "Service", name)["spec"]["selector"]
        == (deployment["spec"]["selector"]["matchLabels"])
    )
    hpa = named(manifests, "HorizontalPodAutoscaler", name)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == name
    pdb = named(manifests, "PodDisruptionBudget", name)
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_operator_role_covers_only_the_managed_kinds(manifests: list[Manifest]) -> None:
    (role,) = of_kind(manifests, "Role")
    granted = {
        (group, resource): set(rule["verbs"])
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    expected_resources = {
        ("qsr.io", "loyaltyprograms"), ("qsr.io", "storeintegrations"),
        ("qsr.io", "loyaltyprograms/status"), ("qsr.io", "storeintegrations/status"),
        ("qsr.io", "loyaltyprograms/finalizers"), ("qsr.io", "storeintegrations/finalizers"),
        ("", "configmaps"), ("", "services"), ("apps", "deployments"),
        ("autoscaling", "horizontalpodautoscalers"), ("policy", "poddisruptionbudgets"),
        ("", "secrets"), ("", "events"), ("events.k8s.io", "events"),
    }  # fmt: skip
    assert set(granted) == expected_resources
    assert granted[("", "secrets")] == {"get", "list", "watch"}
    assert granted[("", "events")] == {"create", "patch"}
    assert all("*" not in verbs for verbs in granted.values())


def test_cluster_access_is_read_only_discovery_for_kopf(manifests: list[Manifest]) -> None:
    (cluster_role,) = of_kind(manifests, "ClusterRole")
    granted = {
        (group, resource): set(rule["verbs"])
        for rule in cluster_role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    read = {"get", "list", "watch"}
    assert granted == {
        ("apiextensions.k8s.io", "customresourcedefinitions"): read,
        ("", "namespaces"): read,
    }


def test_no_cluster_access_when_kopf_scanning_is_off() -> None:
    rendered = render("--set", "operator.kopfScanning=false")
    assert of_kind(rendered, "ClusterRole") == []
    assert of_kind(rendered, "ClusterRoleBinding") == []


def test_operator_roles_follow_the_watched_namespaces() -> None:
    rendered = render("--set", "operator.watchNamespaces={brand-a,brand-b}")
    roles = {role["metadata"]["namespace"] for role in of_kind(rendered, "Role")}
    bindings = {b["metadata"]["namespace"] for b in of_kind(rendered, "RoleBinding")}
    assert roles == bindings == {"brand-a", "brand-b"}


def test_only_the_operator_mounts_an_api_token(manifests: list[Manifest]) -> None:
    mounts = {name: spec["automountServiceAccountToken"] for name, spec in pod_specs(manifests)}
    assert mounts == {"qsr-operator": True, **{f"qsr-{s}": False for s in SERVICES}}


def test_namespace_is_default_deny(manifests: list[Manifest]) -> None:
    deny = named(manifests, "NetworkPolicy", "qsr-default-deny")
    assert deny["spec"]["podSelector"] == {}
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"]
    assert "egress" not in deny["spec"]


def test_allowed_egress_ports_are_dns_api_kafka_and_stores(manifests: list[Manifest]) -> None:
    ports = {
        port["port"]
        for policy in of_kind(manifests, "NetworkPolicy")
        for rule in policy["spec"].get("egress") or []
        for port in rule.get("ports", [])
    }
    assert ports == {53, 443, 6443, 9092, 9098, 5432, 6379, 8080}


def test_hub_internet_egress_excludes_private_ranges_and_metadata(
    manifests: list[Manifest],
) -> None:
    (rule,) = named(manifests, "NetworkPolicy", "qsr-hub-edge")["spec"]["egress"]
    block = rule["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "169.254.0.0/16"} <= set(block["except"])


def test_irsa_role_is_annotated_on_the_service_account() -> None:
    arn = "arn:aws:iam::123456789012:role/qsr-prod-hub"
    rendered = render("--set", f"irsa.hub={arn}")
    account = named(rendered, "ServiceAccount", "qsr-hub")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == arn
    assert "annotations" not in named(rendered, "ServiceAccount", "qsr-identity")["metadata"]


def test_service_monitor_absent_without_the_prometheus_operator(manifests: list[Manifest]) -> None:
    assert of_kind(manifests, "ServiceMonitor") == []
    assert of_kind(manifests, "PrometheusRule") == []


def test_service_monitors_and_rules_render_when_the_crds_exist() -> None:
    rendered = render(
        "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor",
        "--api-versions", "monitoring.coreos.com/v1/PrometheusRule",
    )  # fmt: skip
    monitors = {m["metadata"]["name"] for m in of_kind(rendered, "ServiceMonitor")}
    assert monitors == {"qsr-operator", "qsr-services"}
    (rule,) = of_kind(rendered, "PrometheusRule")
    assert rule["spec"]["groups"]


def test_chart_crds_equal_the_generated_crds() -> None:
    generated = sorted((ROOT / "crds").glob("*.yaml"))
    assert generated
    shipped = sorted((CHART / "crds").glob("*.yaml"))
    assert [p.name for p in shipped] == [p.name for p in generated]
    pairs = zip(shipped, generated, strict=True)
    stale = [p.name for p, g in pairs if p.read_text() != g.read_text()]
    assert stale == [], "run `make crds`: it copies crds/ into charts/qsr-platform/crds/"
