"""Conditions, the Ready summary, status diffs and the drift check: pure."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

from qsr_operator.domain import conditions, drift, program_status, stores, topic_plan
from qsr_operator.domain.conditions import Condition, Type

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def _ready(status: bool | None) -> list[Condition]:
    return [Condition(Type.READY, status, "R", "m")]


def test_transition_time_is_kept_while_status_holds() -> None:
    first = conditions.merge([], _ready(True), generation=1, now=T0)
    again = conditions.merge(first, _ready(True), generation=1, now=T1)
    assert again == first


def test_transition_time_moves_when_status_flips() -> None:
    first = conditions.merge([], _ready(True), generation=1, now=T0)
    flipped = conditions.merge(first, _ready(False), generation=2, now=T1)
    assert (flipped[0]["lastTransitionTime"], flipped[0]["observedGeneration"]) == (
        "2026-11-25T13:00:00Z",
        2,
    )


def test_unknown_status_is_spelled_unknown() -> None:
    assert conditions.merge([], _ready(None), generation=1, now=T0)[0]["status"] == "Unknown"


def test_summary_takes_the_first_failing_reason() -> None:
    parts = [
        Condition(Type.TOPICS_READY, True, "ok", ""),
        Condition(Type.SERVICE_AVAILABLE, False, "DeploymentMissing", "x"),
    ]
    assert conditions.summary(parts) == Condition(Type.READY, False, "DeploymentMissing", "x")


def test_status_patch_is_empty_when_nothing_differs() -> None:
    status = {"observedGeneration": 3, "conditions": [{"type": "Ready"}]}
    assert conditions.status_patch({**status, "kopf": {}}, status) == {}


def test_status_patch_names_only_changed_keys() -> None:
    patch = conditions.status_patch(
        {"observedGeneration": 3, "stores": 1}, {"observedGeneration": 4, "stores": 1}
    )
    assert patch == {"observedGeneration": 4}


def test_drift_ignores_server_defaults() -> None:
    desired = {"spec": {"ports": [{"port": 80}]}}
    live = {"spec": {"ports": [{"port": 80, "protocol": "TCP"}], "clusterIP": "10.0.0.1"}}
    assert drift.differences(desired, live) == []


def test_drift_names_the_changed_path() -> None:
    desired = {"spec": {"template": {"metadata": {"annotations": {"a": "1"}}}}}
    live = {"spec": {"template": {"metadata": {"annotations": {"a": "2"}}}}}
    assert drift.differences(desired, live) == [".spec.template.metadata.annotations.a"]


def test_drift_sees_a_removed_list_entry() -> None:
    assert drift.differences({"x": [1, 2]}, {"x": [1]}) == [".x"]


def test_drift_reads_a_live_object_given_as_a_read_only_mapping() -> None:
    desired = {"spec": {"ports": [{"port": 80}]}}
    live = MappingProxyType({"spec": {"ports": [{"port": 80, "protocol": "TCP"}]}})
    assert drift.differences(desired, live) == []


def test_kafka_trouble_is_the_ready_reason(program_spec) -> None:
    conds = program_status.program_conditions(
        program_spec, deployment=None, topics=program_status.TopicsOutcome(error="broker down")
    )
    assert (conds[0].type, conds[0].status, conds[0].reason) == (
        Type.READY,
        False,
        "KafkaUnavailable",
    )


def test_available_deployment_makes_the_program_ready(program_spec) -> None:
    deployment = {
        "metadata": {"generation": 2},
        "status": {
            "observedGeneration": 2,
            "conditions": [{"type": "Available", "status": "True"}],
        },
    }
    conds = program_status.program_conditions(
        program_spec, deployment=deployment, topics=program_status.TopicsOutcome()
    )
    assert [(c.type.value, c.status) for c in conds] == [
        ("Ready", True),
        ("ConfigApplied", True),
        ("ServiceAvailable", True),
        ("TopicsReady", True),
        ("Autoscaling", True),
    ]


def test_a_stale_deployment_status_is_not_available() -> None:
    deployment = {"metadata": {"generation": 3}, "status": {"observedGeneration": 2}}
    assert program_status.service_available(deployment).reason == "RolloutPending"


def test_refused_shrink_is_reported_not_supported() -> None:
    refused = topic_plan.Refused("t", "NotSupported", "decreasing is not supported")
    condition = program_status.topics_ready(program_status.TopicsOutcome(refused=(refused,)))
    assert (condition.status, condition.reason) == (False, "NotSupported")


def test_autoscaling_reports_the_partition_cap(program_spec) -> None:
    capped = program_spec.model_copy(
        update={"kafka": program_spec.kafka.model_copy(update={"partitions": 2})}
    )
    assert program_status.autoscaling(capped).reason == "CappedByPartitions"


def test_paused_keeps_the_other_conditions() -> None:
    previous = [{"type": "Ready", "status": "True", "reason": "Ready", "message": ""}]
    conds = program_status.paused_conditions(previous)
    assert [(c.type.value, c.status) for c in conds] == [
        ("Ready", True),
        ("ReconciliationPaused", True),
    ]


def test_store_record_is_keyed_by_store_id_and_holds_no_secret_value(store_spec) -> None:
    record = stores.store_record(namespace="brand-a", name="store-0001", spec=store_spec)
    assert record.key == b"store-0001"
    assert b"webhookSecretRef" in record.value
    assert b"dev-only" not in record.value


def test_store_record_checksum_follows_the_spec(store_spec) -> None:
    a = stores.store_record(namespace="n", name="s", spec=store_spec)
    b = stores.store_record(
        namespace="n", name="s", spec=store_spec.model_copy(update={"paused": True})
    )
    assert a.checksum != b.checksum


def test_missing_program_names_the_field() -> None:
    condition = stores.program_found("nope", exists=False)
    assert (condition.reason, condition.message.startswith("spec.programRef.name")) == (
        "ProgramNotFound",
        True,
    )


def test_store_is_ready_only_when_every_part_is() -> None:
    conds = stores.store_conditions(
        [
            stores.program_found("p", exists=True),
            stores.secrets_found(["spec.pos.webhookSecretRef: x"]),
        ]
    )
    assert (conds[0].status, conds[0].reason) == (False, "SecretNotFound")
