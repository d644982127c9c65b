"""The desired children of a LoyaltyProgram, built without a cluster."""

from __future__ import annotations

from typing import Any

from qsr_kit.domain import specs
from qsr_operator.domain import children


def _with(spec: specs.LoyaltyProgramSpec, **changes: Any) -> specs.LoyaltyProgramSpec:
    data = spec.model_dump(by_alias=True)
    for path, value in changes.items():
        node = data
        *parents, leaf = path.split("__")
        for part in parents:
            node = node[part]
        node[leaf] = value
    return specs.LoyaltyProgramSpec.model_validate(data)


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def test_every_child_carries_the_design_labels(owner, program_spec, env) -> None:
    kinds = {
        m["kind"]: m["metadata"]["labels"]
        for m in children.desired_children(owner, program_spec, env=env)
    }
    assert set(kinds) == {
        "ConfigMap",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    assert all(labels == children.labels_for(owner) for labels in kinds.values())
    assert children.labels_for(owner)["app.kubernetes.io/managed-by"] == "qsr-operator"


def test_every_child_is_owned_by_the_program(owner, program_spec, env) -> None:
    refs = [
        m["metadata"]["ownerReferences"]
        for m in children.desired_children(owner, program_spec, env=env)
    ]
    assert all(r == [owner.reference()] for r in refs)
    assert (owner.reference()["controller"], owner.reference()["uid"]) == (True, "uid-1")


def test_config_map_holds_the_rendered_program_and_its_checksum(owner, program_spec) -> None:
    config_map = children.desired_config_map(owner, program_spec)
    text = config_map["data"][children.CONFIG_KEY]
    assert specs.LoyaltyProgramSpec.model_validate_json(text) == program_spec
    assert config_map["metadata"]["annotations"][
        children.CHECKSUM_ANNOTATION
    ] == children.checksum_of(text)


def test_a_rule_change_changes_the_pod_template_checksum(owner, program_spec, env) -> None:
    before = children.desired_children(owner, program_spec, env=env)[1]
    changed = _with(program_spec, earning__basePointsPerUnit=11)
    after = children.desired_children(owner, changed, env=env)[1]
    key = children.CHECKSUM_ANNOTATION
    assert (
        before["spec"]["template"]["metadata"]["annotations"][key]
        != (after["spec"]["template"]["metadata"]["annotations"][key])
    )


def test_the_same_spec_renders_the_same_checksum(owner, program_spec) -> None:
    again = specs.LoyaltyProgramSpec.model_validate(program_spec.model_dump(by_alias=True))
    assert children.desired_config_map(owner, program_spec) == children.desired_config_map(
        owner, again
    )


def test_deployment_leaves_replicas_to_the_hpa(owner, program_spec, env) -> None:
    deployment = children.desired_children(owner, program_spec, env=env)[1]
    assert "replicas" not in deployment["spec"]


def test_deployment_runs_qsr_serve_loyalty_with_probes(owner, program_spec, env) -> None:
    container = _container(children.desired_children(owner, program_spec, env=env)[1])
    assert (
        container["command"],
        container["livenessProbe"]["httpGet"]["path"],
        container["readinessProbe"]["httpGet"]["path"],
    ) == (["qsr", "serve", "loyalty"], "/healthz", "/readyz")


def test_deployment_is_restricted(owner, program_spec, env) -> None:
    deployment = children.desired_children(owner, program_spec, env=env)[1]
    pod = deployment["spec"]["template"]["spec"]
    security = _container(deployment)["securityContext"]
    assert (
        pod["securityContext"]["runAsNonRoot"],
        security["allowPrivilegeEscalation"],
        security["capabilities"],
        security["seccompProfile"],
    ) == (True, False, {"drop": ["ALL"]}, {"type": "RuntimeDefault"})


def test_deployment_takes_image_and_resources_from_the_spec(owner, program_spec, env) -> None:
    spec = _with(
        program_spec,
        service__image="registry.local/qsr:9",
        service__resources={"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}},
    )
    container = _container(children.desired_deployment(owner, spec, env=env, config_checksum="x"))
    assert (container["image"], container["resources"]) == (
        "registry.local/qsr:9",
        {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}},
    )


def test_deployment_tells_the_service_where_kafka_is(owner, program_spec, env) -> None:
    container = _container(
        children.desired_deployment(owner, program_spec, env=env, config_checksum="x")
    )
    assert {"name": "QSR_KAFKA_BOOTSTRAP", "value": "kafka:9092"} in container["env"]


def test_deployment_runs_as_the_charts_loyalty_service_account(owner, program_spec, env) -> None:
    deployment = children.desired_deployment(owner, program_spec, env=env, config_checksum="x")
    pod = deployment["spec"]["template"]["spec"]
    assert (pod["serviceAccountName"], pod["automountServiceAccountToken"]) == (
        "qsr-loyalty",
        False,
    )


def test_deployment_takes_the_service_account_from_the_environment(owner, program_spec) -> None:
    env = children.Environment(kafka_bootstrap="kafka:9092", service_account="brand-a-loyalty")
    deployment = children.desired_deployment(owner, program_spec, env=env, config_checksum="x")
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "brand-a-loyalty"


def test_hpa_max_replicas_never_exceeds_partitions(owner, program_spec) -> None:
    spec = _with(program_spec, kafka__partitions=3, service__maxReplicas=10, service__minReplicas=5)
    hpa = children.desired_hpa(owner, spec)
    assert (hpa["apiVersion"], hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (
        "autoscaling/v2",
        3,
        3,
    )


def test_hpa_keeps_spec_bounds_under_the_partition_count(owner, program_spec) -> None:
    hpa = children.desired_hpa(owner, _with(program_spec, kafka__partitions=12))
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (
        program_spec.service.min_replicas,
        program_spec.service.max_replicas,
    )


def test_hpa_targets_the_deployment_cpu(owner, program_spec) -> None:
    hpa = children.desired_hpa(owner, program_spec)
    assert hpa["spec"]["scaleTargetRef"]["name"] == children.child_name(owner)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70


def test_service_and_pdb_select_the_pods(owner, program_spec, env) -> None:
    deployment, service, pdb = (
        children.desired_children(owner, program_spec, env=env)[i] for i in (1, 2, 4)
    )
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    for selector in (service["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= pod_labels.items()
