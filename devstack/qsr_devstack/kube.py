"""The Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
and kwok with one fake node — envtest's flags, plus controllers and a node so Deployments go
Available.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from qsr_devstack import certs, processes
from qsr_devstack.paths import binary, cache_dir
from qsr_devstack.processes import Started

FAKE_NODE = "kwok-node-0"


class ApiClient:
    """Just enough of a client to check readiness: GET/POST JSON with the admin certificate."""

    def __init__(self, server: str, pki: certs.Pki) -> None:
        self.server = server
        self._ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
        self._ctx.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, context=self._ctx, timeout=5) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.startswith(b"{") else raw.decode()

    def exists(self, path: str) -> bool:
        try:
            self.request("GET", path)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return False
            raise
        return True


def write_kubeconfig(path: Path, *, server: str, pki: certs.Pki) -> Path:
    def b64(p: Path) -> str:
        return base64.b64encode(p.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "qsr-local",
                "cluster": {"server": server, "certificate-authority-data": b64(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": "qsr-admin",
                "user": {
                    "client-certificate-data": b64(pki.admin_cert),
                    "client-key-data": b64(pki.admin_key),
                },
            }
        ],
        "contexts": [
            {"name": "qsr-local", "context": {"cluster": "qsr-local", "user": "qsr-admin"}}
        ],
        "current-context": "qsr-local",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


def start_etcd(root: Path, *, die_with_parent: bool) -> tuple[Started, str]:
    client, peer = processes.free_port(), processes.free_port()
    url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
    proc = processes.start(
        "etcd",
        [
            binary("etcd"),
            "--name=node0",
            f"--data-dir={root / 'etcd'}",
            f"--listen-client-urls={url}",
            f"--advertise-client-urls={url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=node0={peer_url}",
            "--unsafe-no-fsync=true",  # envtest: test data need no durability
            "--quota-backend-bytes=2147483648",
            "--log-level=warn",
        ],
        log=root / "etcd.log",
        die_with_parent=die_with_parent,
    )

    def healthy() -> bool:
        with urllib.request.urlopen(url + "/health", timeout=2) as resp:
            return bool(json.loads(resp.read()).get("health") == "true")

    processes.wait_healthy(proc, healthy, timeout=30)
    return proc, url


def start_apiserver(
    root: Path, *, etcd_url: str, die_with_parent: bool
) -> tuple[Started, str, certs.Pki, Path]:
    pki = certs.create_pki(root / "pki", now=dt.datetime.now(dt.UTC))
    port = processes.free_port()
    server = f"https://127.0.0.1:{port}"
    proc = processes.start(
        "kube-apiserver",
        [
            binary("kube-apiserver"),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={root / 'pki'}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            "--authorization-mode=RBAC",
            "--service-cluster-ip-range=10.0.0.0/24",
            f"--service-account-issuer={server}",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            "--endpoint-reconciler-type=none",  # kwok/envtest: no kubelet endpoints to reconcile
            "--allow-privileged=true",
            "--profiling=false",
        ],
        log=root / "kube-apiserver.log",
        die_with_parent=die_with_parent,
    )
    api = ApiClient(server, pki)
    processes.wait_healthy(proc, lambda: api.request("GET", "/readyz") == "ok", timeout=90)
    kubeconfig = write_kubeconfig(root / "kubeconfig", server=server, pki=pki)
    return proc, server, pki, kubeconfig


def start_controller_manager(
    root: Path, *, api: ApiClient, kubeconfig: Path, pki: certs.Pki, die_with_parent: bool
) -> Started:
    proc = processes.start(
        "kube-controller-manager",
        [
            binary("kube-controller-manager"),
            f"--kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--controllers=*",
            f"--root-ca-file={pki.ca_cert}",
            f"--service-account-private-key-file={pki.sa_key}",
            "--use-service-account-credentials=false",
            "--secure-port=0",
            "--cluster-name=qsr-local",
            "--kube-api-qps=100",
            "--kube-api-burst=200",
            "--concurrent-gc-syncs=5",
        ],
        log=root / "kube-controller-manager.log",
        die_with_parent=die_with_parent,
    )
    # The service-account controller making `default/default` proves the controllers run.
    processes.wait_healthy(
        proc,
        lambda: api.exists("/api/v1/namespaces/default/serviceaccounts/default"),
        timeout=60,
        what="running its controllers",
    )
    return proc


def start_scheduler(root: Path, *, kubeconfig: Path, die_with_parent: bool) -> Started:
    port = processes.free_port()
    proc = processes.start(
        "kube-scheduler",
        [
            binary("kube-scheduler"),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={root / 'scheduler-certs'}",
        ],
        log=root / "kube-scheduler.log",
        die_with_parent=die_with_parent,
    )
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE  # its own self-signed serving cert; /healthz only

    def healthy() -> bool:
        url = f"https://127.0.0.1:{port}/healthz"
        with urllib.request.urlopen(url, context=insecure, timeout=2) as resp:
            return bool(resp.read() == b"ok")

    processes.wait_healthy(proc, healthy, timeout=60)
    return proc


def fake_node() -> dict[str, Any]:
    capacity = {"cpu": "32", "memory": "256Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": FAKE_NODE,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": FAKE_NODE,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "status": {"capacity": capacity, "allocatable": capacity},
    }


def start_kwok(root: Path, *, api: ApiClient, kubeconfig: Path, die_with_parent: bool) -> Started:
    proc = processes.start(
        "kwok",
        [
            binary("kwok"),
            f"--kubeconfig={kubeconfig}",
            f"--config={cache_dir() / 'kwok-stages.yaml'}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--manage-nodes-with-label-selector=",
            "--manage-single-node=",
            "--cidr=10.0.0.0/24",
            "--node-ip=127.0.0.2",
            "--node-lease-duration-seconds=40",
            f"--server-address=127.0.0.1:{processes.free_port()}",
        ],
        log=root / "kwok.log",
        die_with_parent=die_with_parent,
    )
    if not api.exists(f"/api/v1/nodes/{FAKE_NODE}"):
        api.request("POST", "/api/v1/nodes", fake_node())

    def node_ready() -> bool:
        node = api.request("GET", f"/api/v1/nodes/{FAKE_NODE}")
        conditions = node.get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    processes.wait_healthy(proc, node_ready, timeout=60, what="managing a Ready node")
    return proc
