"""The slim diff-base storage builds exactly the essence Kopf's own storage builds."""

from __future__ import annotations

import copy
from typing import Any, cast

import kopf
import pytest

from qsr_operator import diff_base
from tests.qsr_operator.manifests import example_docs


def _kopfs() -> kopf.AnnotationsDiffBaseStorage:
    return kopf.AnnotationsDiffBaseStorage(prefix="qsr.io", key="last-handled-configuration")


def _slim() -> diff_base.SlimDiffBaseStorage:
    return diff_base.SlimDiffBaseStorage(prefix="qsr.io", key="last-handled-configuration")


def _watched(kind: str) -> dict[str, Any]:
    """An example object as a watch event delivers it: server fields, managedFields, status."""
    body = copy.deepcopy(example_docs(kind)[0])
    body["metadata"] |= {
        "namespace": "brand-a",
        "uid": "uid-1",
        "resourceVersion": "42",
        "generation": 3,
        "creationTimestamp": "2026-11-25T12:00:00Z",
        "finalizers": ["qsr.io/finalizer"],
        "labels": {"team": "a"},
        "annotations": {
            "qsr.io/last-handled-configuration": '{"spec": {}}',
            "qsr.io/program": '{"started": "2026-11-25T12:00:00Z"}',
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
            "note": "kept",
        },
        "ownerReferences": [{"kind": "Deployment", "name": "d", "uid": "u", "apiVersion": "v1"}],
        "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
    }
    body["status"] = {"conditions": [{"type": "Ready", "status": "True"}], "stores": 7}
    return body


def _body(raw: dict[str, Any]) -> kopf.Body:
    return kopf.Body(cast(kopf.RawBody, raw))


@pytest.mark.parametrize("kind", ["LoyaltyProgram", "StoreIntegration"])
def test_slim_essence_equals_kopfs(kind: str) -> None:
    raw = _watched(kind)
    kopfs = _kopfs().build(body=_body(copy.deepcopy(raw)))
    assert _slim().build(body=_body(raw)) == kopfs


def test_slim_essence_with_extra_fields_equals_kopfs() -> None:
    raw = _watched("LoyaltyProgram")
    fields = ["status.stores"]
    kopfs = _kopfs().build(body=_body(raw), extra_fields=fields)
    slim = _slim().build(body=_body(raw), extra_fields=fields)
    assert slim == kopfs
    assert slim["status"] == {"stores": 7}


def test_slim_essence_leaves_the_body_untouched() -> None:
    raw = _watched("StoreIntegration")
    before = copy.deepcopy(raw)
    _slim().build(body=_body(raw))
    assert raw == before
