"""Which child watch events call for a program reconcile: the filter, fed what Kopf hands over."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any, cast

import kopf
import pytest

from qsr_kit.domain import specs
from qsr_operator import reconcile_program
from qsr_operator.domain import children
from qsr_operator.runtime import Runtime
from qsr_operator.settings import Settings

KINDS = ["ConfigMap", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Deployment"]
AVAILABLE = {
    "observedGeneration": 1,
    "conditions": [{"type": "Available", "status": "True", "message": "ok"}],
}


@pytest.fixture
def rt() -> Runtime:
    # child_needs_reconcile reads only the settings (the children's environment).
    return cast(Runtime, SimpleNamespace(settings=Settings(kafka_bootstrap="kafka:9092")))


@pytest.fixture
def program(program_spec: specs.LoyaltyProgramSpec) -> dict[str, Any]:
    service = {"type": "ServiceAvailable", "status": "True", "reason": "MinimumReplicasAvailable"}
    return {
        "apiVersion": "qsr.io/v1alpha1",
        "kind": "LoyaltyProgram",
        "metadata": {"name": "crispin-rewards", "namespace": "brand-a", "uid": "uid-1"},
        "spec": program_spec.model_dump(mode="json", by_alias=True),
        "status": {"conditions": [service]},
    }


def _live_child(rt: Runtime, program: dict[str, Any], kind: str) -> dict[str, Any]:
    """The child as the API server returns it: what we applied, plus defaults and a status."""
    owner = reconcile_program.owner_of(program)
    spec = reconcile_program.parse(program)
    env = reconcile_program.environment(rt)
    desired = next(c for c in children.desired_children(owner, spec, env=env) if c["kind"] == kind)
    live = copy.deepcopy(desired)
    live["metadata"] |= {"generation": 1, "resourceVersion": "7", "uid": "child-uid"}
    if kind == "Deployment":
        live["status"] = AVAILABLE
    return live


def _as_kopf_body(raw: dict[str, Any]) -> kopf.Body:
    """What a Kopf handler gets as `body`: a read-only view, not a dict."""
    return kopf.Body(cast(kopf.RawBody, raw))


@pytest.mark.parametrize("kind", KINDS)
def test_an_unchanged_child_given_as_a_kopf_body_needs_no_reconcile(
    rt: Runtime, program: dict[str, Any], kind: str
) -> None:
    child = _as_kopf_body(_live_child(rt, program, kind))
    assert not reconcile_program.child_needs_reconcile(rt, program, child, deleted=False)


@pytest.mark.parametrize("kind", KINDS)
def test_an_edited_child_given_as_a_kopf_body_needs_a_reconcile(
    rt: Runtime, program: dict[str, Any], kind: str
) -> None:
    live = _live_child(rt, program, kind)
    live["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "someone-else"
    assert reconcile_program.child_needs_reconcile(rt, program, _as_kopf_body(live), deleted=False)


def test_a_deployment_whose_availability_changed_needs_a_reconcile(
    rt: Runtime, program: dict[str, Any]
) -> None:
    live = _live_child(rt, program, "Deployment")
    live["status"] = {
        "observedGeneration": 1,
        "conditions": [{"type": "Available", "status": "False"}],
    }
    assert reconcile_program.child_needs_reconcile(rt, program, _as_kopf_body(live), deleted=False)
