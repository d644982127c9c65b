"""`kopf run -m qsr_operator`: Kopf's own CLI, as a separate process, runs our handlers; any other
import of the package stays free of Kopf (so `qsr-operator` can hide the kubernetes clients)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qsr_devstack import processes, testing
from tests.qsr_operator import cluster
from tests.qsr_operator.cluster import Cluster
from tests.qsr_operator.manifests import example_docs

LP = "loyaltyprograms"
KOPF = Path(sys.executable).parent / "kopf"


@pytest.fixture(scope="module")
def k8s(kube: testing.Kube) -> Cluster:
    c = Cluster(kube, cluster.fresh_namespace(kube, "op-kopf-cli"))
    cluster.install_crds(c)
    return c


def _environment(k8s: Cluster, kafka: testing.Kafka) -> dict[str, str]:
    # Added to this process's environment; QSR_OPERATOR_* names win over their aliases.
    return {
        "QSR_OPERATOR_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "QSR_OPERATOR_KUBECONFIG": str(k8s.kube.kubeconfig),
        "QSR_OPERATOR_RESYNC_SECONDS": "5",
        "QSR_OPERATOR_RETRY_SECONDS": "1",
        "QSR_OPERATOR_METRICS_PORT": str(processes.free_port()),
    }


@pytest.mark.k8s
@pytest.mark.kafka
def test_kopf_run_module_reconciles_the_example_program_to_ready(
    k8s: Cluster, kafka: testing.Kafka, tmp_path: Path
) -> None:
    log = tmp_path / "kopf-run.log"
    liveness = f"http://127.0.0.1:{processes.free_port()}/healthz"
    argv: list[str | Path] = [
        KOPF,
        "run",
        "-m",
        "qsr_operator",
        "--standalone",
        "--namespace",
        k8s.namespace,
    ]
    started = processes.start(
        "kopf-run",
        [*argv, "--liveness", liveness],
        log=log,
        die_with_parent=True,
        env=_environment(k8s, kafka),
    )
    try:
        program = copy.deepcopy(example_docs("LoyaltyProgram")[0])
        program["metadata"]["namespace"] = k8s.namespace
        applied = k8s.kubectl("apply", "-f", "-", stdin=yaml.safe_dump(program))
        assert applied.returncode == 0, applied.stderr
        name = program["metadata"]["name"]
        try:
            ready = k8s.wait_condition(LP, name, "Ready", "True", timeout=120)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- kopf run log ---\n{processes.log_tail(log)}") from exc
        assert ready["reason"]
    finally:
        processes.stop(started.pid, popen=started.popen)


def test_importing_the_package_its_domain_and_main_imports_no_kopf() -> None:
    code = (
        "import sys, qsr_operator, qsr_operator.domain.topic_plan, qsr_operator.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kopf', 'kubernetes')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
