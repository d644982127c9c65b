"""Operator at scale: N programs and M stores until all Ready, against a plain-client baseline.

Same run, same stack: the baseline `kubectl apply`s the CRs *and* the children the operator would
render into another namespace (no operator, no Kafka); then the operator (a real `qsr-operator`
process) gets the same CRs and we time them to Ready. Reports objects/s (ratio to the baseline), API
writes per custom resource, the operator's peak memory, and the writes during an idle resync.

    .venv/bin/python bench/operator_scale.py --programs 10 --stores 1000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import kubernetes
import yaml

from qsr_devstack import processes
from qsr_devstack.paths import binary
from qsr_devstack.stack import Stack
from qsr_kit.domain import specs
from qsr_operator.domain import children

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
# The API server counts server-side apply as its own verb, APPLY (kubectl's applies of the CRs).
WRITE_VERBS = ("POST", "PUT", "PATCH", "APPLY", "DELETE")
# Kopf's progress records of our create/update/resume handlers (present while one is retrying).
PROGRESS_KEYS = ("qsr.io/program", "qsr.io/store")


def _docs(kind: str) -> list[dict[str, Any]]:
    out = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        out += [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == kind]
    return out


def custom_resources(namespace: str, programs: int, stores: int) -> list[dict[str, Any]]:
    program, store = _docs("LoyaltyProgram")[0], _docs("StoreIntegration")[0]
    out = [
        {**s, "metadata": {"name": s["metadata"]["name"], "namespace": namespace}}
        for s in _docs("Secret")[:2]
    ]
    for p in range(programs):
        out.append({**program, "metadata": {"name": f"brand-{p:02d}", "namespace": namespace}})
    for s in range(stores):
        spec = {
            **store["spec"],
            "storeId": f"s-{s:05d}",
            "programRef": {"name": f"brand-{s % programs:02d}"},
        }
        out.append(
            {**store, "metadata": {"name": f"s-{s:05d}", "namespace": namespace}, "spec": spec}
        )
    return out


def rendered_children(namespace: str, programs: int) -> list[dict[str, Any]]:
    """What the operator would apply for each program, without owner references (no owner here)."""
    spec = specs.LoyaltyProgramSpec.model_validate(_docs("LoyaltyProgram")[0]["spec"])
    env = children.Environment(kafka_bootstrap="kafka:9092")
    out = []
    for p in range(programs):
        owner = children.Owner("LoyaltyProgram", f"brand-{p:02d}", namespace, "baseline")
        for child in children.desired_children(owner, spec, env=env):
            del child["metadata"]["ownerReferences"]
            out.append(child)
    return out


class Cluster:
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        api = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
        self.core = kubernetes.client.CoreV1Api(api)
        self.custom = kubernetes.client.CustomObjectsApi(api)
        self.apps = kubernetes.client.AppsV1Api(api)

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(binary("kubectl")), "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kubectl {args[:2]}: {done.stderr[-2000:]}")
        return done.stdout

    def apply(self, docs: list[dict[str, Any]]) -> float:
        started = time.perf_counter()
        self.kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump_all(docs))
        return time.perf_counter() - started

    def ready_counts(self, namespace: str) -> tuple[int, int]:
        ready = total = 0
        for plural in ("loyaltyprograms", "storeintegrations"):
            items = self.custom.list_namespaced_custom_object(
                "qsr.io", "v1alpha1", namespace, plural
            )
            for item in items["items"]:
                total += 1
                conditions = (item.get("status") or {}).get("conditions") or []
                ready += any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        return ready, total

    def apiserver_writes(self) -> dict[str, float]:
        """apiserver_request_total of write verbs, per resource (all clients)."""
        out: dict[str, float] = {}
        pattern = re.compile(r"^apiserver_request_total\{(.*)\} ([0-9.e+]+)$")
        for line in self.kubectl("get", "--raw", "/metrics").splitlines():
            match = pattern.match(line)
            if not match:
                continue
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            if labels.get("verb") in WRITE_VERBS:
                key = "/".join(
                    (labels.get("resource", ""), labels.get("subresource", ""), labels["verb"])
                )
                out[key] = out.get(key, 0.0) + float(match.group(2))
        return out

    def operator_events(self, namespace: str) -> int:
        events = self.core.list_namespaced_event(namespace).items
        return sum(
            e.count or 1 for e in events if (e.source and e.source.component) == "qsr-operator"
        )


def _delta(after: dict[str, float], before: dict[str, float], keys: tuple[str, ...]) -> float:
    return sum(v - before.get(k, 0.0) for k, v in after.items() if k.split("/")[0] in keys)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=10)
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--resync", type=float, default=20.0)
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument(
        "--profile", type=Path, default=None, help="write a cProfile of the operator process here"
    )
    args = parser.parse_args()

    stack = Stack.create(die_with_parent=True)
    operator: subprocess.Popen[bytes] | None = None
    try:
        stack.start("k8s")
        stack.start("kafka")
        kubeconfig, bootstrap = Path(stack.endpoints["kubeconfig"]), stack.endpoints["kafka"]
        k8s = Cluster(kubeconfig)
        k8s.kubectl("apply", "--server-side", "-f", str(REPO / "crds"))
        k8s.kubectl(
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd",
            "-l",
            "app.kubernetes.io/part-of=qsr-platform",
        )
        for ns in ("baseline", "bench"):
            k8s.core.create_namespace({"metadata": {"name": ns}})
            # As the chart does: the loyalty pods run as qsr-loyalty (admission checks it exists).
            k8s.core.create_namespaced_service_account(ns, {"metadata": {"name": "qsr-loyalty"}})

        crs = custom_resources("baseline", args.programs, args.stores)
        base_docs = crs + rendered_children("baseline", args.programs)
        objects = len(base_docs) - 2  # the two Secrets are set-up, not objects
        baseline_seconds = k8s.apply(base_docs)
        baseline_rate = objects / baseline_seconds

        metrics_port, liveness_port = processes.free_port(), processes.free_port()
        env = {
            **os.environ,
            "QSR_OPERATOR_KAFKA_BOOTSTRAP": bootstrap,
            "QSR_OPERATOR_KUBECONFIG": str(kubeconfig),
            "QSR_OPERATOR_NAMESPACES": json.dumps(["bench"]),
            "QSR_OPERATOR_RESYNC_SECONDS": str(args.resync),
            "QSR_OPERATOR_RETRY_SECONDS": "2",
            "QSR_OPERATOR_API_QPS": "200",
            "QSR_OPERATOR_API_BURST": "400",
            "QSR_OPERATOR_METRICS_PORT": str(metrics_port),
            "QSR_OPERATOR_LIVENESS_ENDPOINT": f"http://127.0.0.1:{liveness_port}/healthz",
        }
        log = open(Path(tempfile.gettempdir()) / "qsr-operator-bench.log", "wb")  # noqa: SIM115
        command = [str(REPO / ".venv/bin/qsr-operator")]
        if args.profile is not None:  # written when the operator exits on SIGTERM
            command = [str(REPO / ".venv/bin/python"), "-m", "cProfile", "-o", str(args.profile)]
            command += ["-m", "qsr_operator.main"]
        operator = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        processes.wait_healthy(
            processes.Started("qsr-operator", operator.pid, Path(log.name), operator),
            lambda: _healthy(f"http://127.0.0.1:{liveness_port}/healthz"),
            timeout=60,
        )

        before_api, before_children = k8s.apiserver_writes(), _children_writes(metrics_url)
        cpu_before = _cpu_seconds(operator.pid)
        watch = ReadyWatch(k8s, "bench")
        watch.start()
        # Onboarding order: the brand's programs, then its stores (a store before its program
        # works too, but waits and retries; tests/qsr_operator cover that path).
        started = time.perf_counter()
        docs = custom_resources("bench", args.programs, args.stores)
        k8s.apply(docs[: 2 + args.programs])
        watch.wait(args.programs, started + args.timeout)
        programs_seconds = time.perf_counter() - started
        stores_apply_seconds = k8s.apply(docs[2 + args.programs :])
        crs_count = args.programs + args.stores
        watch.wait(crs_count, started + args.timeout)
        operator_seconds = time.perf_counter() - started
        watch.stop()
        ready, total = k8s.ready_counts("bench")  # the watch agrees with a fresh list
        if not ready == total == crs_count:
            raise SystemExit(f"watch said all Ready, a list says {ready}/{total}")
        operator_cpu = _cpu_seconds(operator.pid) - cpu_before
        operator_rate = objects / operator_seconds

        # Writes made for the bench CRs: Kopf's and our patches on the CRs (apiserver counts,
        # minus kubectl's own apply per CR), our children applies, and posted Events.
        after_api = k8s.apiserver_writes()
        cr_writes = (
            _delta(after_api, before_api, ("loyaltyprograms", "storeintegrations")) - crs_count
        )
        child_writes = _children_writes(metrics_url) - before_children
        events = k8s.operator_events("bench")
        writes = cr_writes + child_writes + events
        peak = _peak_rss_mib(operator.pid)

        _wait_quiet(k8s, time.perf_counter() + 120)
        time.sleep(args.resync)  # one resync round to report the settled Deployments
        idle_api, idle_children = k8s.apiserver_writes(), _children_writes(metrics_url)
        idle_events = k8s.operator_events("bench")
        time.sleep(2 * args.resync + 5)  # two full resync rounds of every object
        idle = {
            "on_crs": _delta(
                k8s.apiserver_writes(), idle_api, ("loyaltyprograms", "storeintegrations")
            ),
            "children": _children_writes(metrics_url) - idle_children,
            "events": k8s.operator_events("bench") - idle_events,
        }
        idle_by_resource = {
            k: v - idle_api.get(k, 0.0)
            for k, v in k8s.apiserver_writes().items()
            if k.split("/")[0] in ("loyaltyprograms", "storeintegrations")
            and v != idle_api.get(k, 0.0)
        }
        report = {
            "programs": args.programs,
            "stores": args.stores,
            "objects": objects,
            "baseline_seconds": round(baseline_seconds, 1),
            "baseline_objects_per_second": round(baseline_rate, 1),
            "operator_seconds_to_all_ready": round(operator_seconds, 1),
            "of_which_programs_ready": round(programs_seconds, 1),
            "of_which_kubectl_applying_stores": round(stores_apply_seconds, 1),
            "operator_objects_per_second": round(operator_rate, 1),
            "ratio_to_baseline": round(operator_rate / baseline_rate, 2),
            "api_writes_per_custom_resource": round(writes / crs_count, 2),
            "writes_breakdown": {"on_crs": cr_writes, "children": child_writes, "events": events},
            "cr_writes_by_subresource_and_verb": {
                k: v - before_api.get(k, 0.0)
                for k, v in after_api.items()
                if k.split("/")[0] in ("loyaltyprograms", "storeintegrations")
                and v != before_api.get(k, 0.0)
            },
            "operator_peak_rss_mib": round(peak, 1),
            "operator_cpu_seconds_to_all_ready": round(operator_cpu, 1),
            "bench_watch_cpu_seconds": round(watch.cpu, 2),
            "writes_during_idle_resync": sum(idle.values()),
            "idle_writes_breakdown": idle,
            "idle_cr_writes_by_subresource": idle_by_resource,
        }
        print(json.dumps(report, indent=2))
    finally:
        if operator is not None:
            operator.terminate()
            try:
                operator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                operator.kill()
        stack.stop()


def _children_writes(metrics_url: str) -> float:
    text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("qsr_operator_api_writes_total{") and "/status" not in line
    )


def _is_ready(item: dict[str, Any]) -> bool:
    conditions = (item.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


class ReadyWatch:
    """Which CRs in a namespace are Ready, kept by one list+watch per kind in a thread each.

    Started before the clock, so `wait()` sees the change that makes the last CR Ready as it
    happens (no polling interval, no repeated list of 1,000 CRs). Its own CPU time is reported.
    """

    def __init__(self, k8s: Cluster, namespace: str) -> None:
        self.k8s, self.namespace = k8s, namespace
        self.ready: dict[tuple[str, str], bool] = {}
        self.changed = threading.Condition()
        self.stopping = False
        self.cpu = 0.0
        self.threads = [
            threading.Thread(target=self._watch, args=(plural,), daemon=True)
            for plural in ("loyaltyprograms", "storeintegrations")
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping = True  # each thread ends when its watch request does (timeout_seconds)

    def wait(self, count: int, deadline: float) -> None:
        with self.changed:
            while not (sum(self.ready.values()) == len(self.ready) == count):
                if not all(thread.is_alive() for thread in self.threads):
                    raise SystemExit("a watch thread failed (its traceback is above)")
                if time.perf_counter() > deadline:
                    raise SystemExit(f"only {sum(self.ready.values())}/{count} Ready in time")
                self.changed.wait(timeout=1.0)

    def _set(self, plural: str, item: dict[str, Any], *, deleted: bool = False) -> None:
        key = (plural, item["metadata"]["name"])
        with self.changed:
            if deleted:
                self.ready.pop(key, None)
            else:
                self.ready[key] = _is_ready(item)
            self.changed.notify_all()

    def _watch(self, plural: str) -> None:
        api, version = ("qsr.io", "v1alpha1"), None
        while not self.stopping:
            started = time.thread_time()
            if version is None:  # first time, or the watch expired (410): list again
                listed = self.k8s.custom.list_namespaced_custom_object(*api, self.namespace, plural)
                for item in listed["items"]:
                    self._set(plural, item)
                version = listed["metadata"]["resourceVersion"]
            response = self.k8s.custom.list_namespaced_custom_object(
                *api, self.namespace, plural, watch=True, resource_version=version,
                allow_watch_bookmarks=True, timeout_seconds=5, _preload_content=False,
            )  # fmt: skip
            self.cpu += time.thread_time() - started
            pending = b""
            for chunk in response.stream(65536):
                started = time.thread_time()
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    event = json.loads(line)
                    if event["type"] == "ERROR":  # 410 Gone: our version is too old
                        version = None
                        break
                    version = event["object"]["metadata"]["resourceVersion"]
                    if event["type"] != "BOOKMARK":
                        self._set(plural, event["object"], deleted=event["type"] == "DELETED")
                self.cpu += time.thread_time() - started
            response.release_conn()


def _wait_quiet(k8s: Cluster, deadline: float) -> None:
    """Until Kopf has finished every handler (no progress annotations left on any CR)."""
    while time.perf_counter() < deadline:
        busy = 0
        for plural in ("loyaltyprograms", "storeintegrations"):
            listed = k8s.custom.list_namespaced_custom_object("qsr.io", "v1alpha1", "bench", plural)
            for item in listed["items"]:
                notes = item["metadata"].get("annotations") or {}
                busy += any(k in PROGRESS_KEYS for k in notes)
        # The HPA lifts each Deployment from 1 to minReplicas ~15 s in: real change, not idle.
        for deployment in k8s.apps.list_namespaced_deployment("bench").items:
            busy += (deployment.status.available_replicas or 0) < 2
        if not busy:
            return
        time.sleep(1)
    print("warning: Kopf handlers still busy at the deadline", flush=True)


def _healthy(url: str) -> bool:
    try:
        status: int = urllib.request.urlopen(url, timeout=2).status
        return status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
