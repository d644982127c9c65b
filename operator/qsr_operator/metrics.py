"""Prometheus metrics of the operator (controller-runtime names where one exists).

Module-level collectors on the default registry, which is how prometheus-client is meant to be used;
`main.py` serves them. Labels stay low-cardinality: kind, result, verb — never object names.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECONCILES = Counter(
    "controller_runtime_reconcile_total", "Reconciles by kind and result", ["controller", "result"]
)
RECONCILE_ERRORS = Counter(
    "controller_runtime_reconcile_errors_total", "Reconciles that failed", ["controller"]
)
RECONCILE_TIME = Histogram(
    "controller_runtime_reconcile_time_seconds",
    "Time of one reconcile",
    ["controller"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
DRIFT_CORRECTIONS = Counter(
    "qsr_operator_drift_corrections_total", "Children or topic configs put back", ["kind"]
)
TOPICS_MANAGED = Gauge("qsr_operator_topics_managed", "Kafka topics the operator manages")
API_WRITES = Counter(
    "qsr_operator_api_writes_total",
    "Kubernetes API writes by the operator's client",
    ["verb", "kind"],
)
STORE_RECORDS = Counter(
    "qsr_operator_store_records_total", "Store config records published", ["kind"]
)
KAFKA_CLIENTS_STARTED = Counter(
    "qsr_operator_kafka_clients_started_total",
    "Kafka clients the operator started (one each unless Kafka dropped a connection)",
    ["kind"],
)
KAFKA_CLIENTS_STOPPED = Counter(
    "qsr_operator_kafka_clients_stopped_total",
    "Kafka clients the operator stopped (equals started once the operator has shut down)",
    ["kind"],
)
