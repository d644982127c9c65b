"""The control plane is real: CRDs with CEL, watches, controllers, kwok, GC, namespaces."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from qsr_devstack.testing import Kube

pytestmark = pytest.mark.k8s
GROUP = "smoke.qsr.io"


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def api(kube: Kube) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kube.kubeconfig))


@pytest.fixture
def namespace(api: client.ApiClient) -> Iterator[str]:
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    yield name
    client.CoreV1Api(api).delete_namespace(name)


def widget_crd() -> dict[str, Any]:
    spec_schema = {
        "type": "object",
        "properties": {"size": {"type": "integer"}, "color": {"type": "string"}},
        "x-kubernetes-validations": [
            {"rule": "self.size <= 10", "message": "size must be at most 10"}
        ],
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": spec_schema},
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def widgets(api: client.ApiClient) -> client.CustomObjectsApi:
    ext = client.ApiextensionsV1Api(api)
    try:
        ext.create_custom_resource_definition(widget_crd())
    except ApiException as exc:
        if exc.status != 409:
            raise

    def established() -> bool:
        crd = ext.read_custom_resource_definition(f"widgets.{GROUP}")
        conditions = crd.status.conditions or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    wait_for("the CRD to be established", established)
    return client.CustomObjectsApi(api)


def widget(name: str, size: int) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": size, "color": "red"},
    }


def test_custom_resource_is_created_read_back_and_watched(
    widgets: client.CustomObjectsApi, namespace: str
) -> None:
    args = (GROUP, "v1", namespace, "widgets")
    created = widgets.create_namespaced_custom_object(*args, widget("w1", 3))
    assert widgets.get_namespaced_custom_object(*args, "w1")["spec"] == {"size": 3, "color": "red"}

    widgets.patch_namespaced_custom_object(*args, "w1", {"spec": {"color": "blue"}})
    events = watch.Watch().stream(
        widgets.list_namespaced_custom_object,
        *args,
        resource_version=created["metadata"]["resourceVersion"],
        timeout_seconds=30,
    )
    seen = next(e for e in events if e["type"] == "MODIFIED")
    assert seen["object"]["spec"]["color"] == "blue"


def test_cel_rule_rejects_a_bad_object_with_its_message(
    widgets: client.CustomObjectsApi, namespace: str
) -> None:
    with pytest.raises(ApiException) as rejected:
        widgets.create_namespaced_custom_object(GROUP, "v1", namespace, "widgets", widget("w2", 11))
    assert rejected.value.status == 422
    assert "size must be at most 10" in rejected.value.body
    assert "spec" in rejected.value.body


def test_deployment_gets_a_replicaset_and_becomes_available(
    api: client.ApiClient, namespace: str
) -> None:
    apps = client.AppsV1Api(api)
    labels = {"app": "smoke"}
    apps.create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "smoke"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "app", "image": "smoke:1"}]},
                },
            },
        },
    )
    wait_for(
        "a ReplicaSet owned by the Deployment",
        lambda: bool(apps.list_namespaced_replica_set(namespace, label_selector="app=smoke").items),
    )

    def available() -> bool:
        status = apps.read_namespaced_deployment_status("smoke", namespace).status
        return (status.available_replicas or 0) == 2

    wait_for("the Deployment to become Available", available, timeout=90)
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="app=smoke").items
    assert {p.spec.node_name for p in pods} == {"kwok-node-0"}
    assert all(p.status.phase == "Running" for p in pods)


def test_deleting_an_owner_garbage_collects_its_configmap(
    api: client.ApiClient, namespace: str
) -> None:
    core = client.CoreV1Api(api)
    owner = core.create_namespaced_config_map(namespace, {"metadata": {"name": "owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "owned", "ownerReferences": [ref]}}
    )
    core.delete_namespaced_config_map("owner", namespace)

    def owned_gone() -> bool:
        try:
            core.read_namespaced_config_map("owned", namespace)
        except ApiException as exc:
            return bool(exc.status == 404)
        return False

    wait_for("the garbage collector to delete the owned ConfigMap", owned_gone)


def test_deleting_a_namespace_completes(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    name = f"doomed-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(name, {"metadata": {"name": "content"}})
    core.delete_namespace(name)

    def gone() -> bool:
        try:
            core.read_namespace(name)
        except ApiException as exc:
            return bool(exc.status == 404)
        return False

    wait_for("the namespace controller to finish deleting", gone, timeout=90)
