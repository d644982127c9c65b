"""Dashboards and alerts shipped in the chart: valid JSON/YAML, sound rule structure, and every
metric a PromQL expression names is one the code registers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.delivery.chart import CHART, ROOT

DASHBOARDS = sorted((CHART / "files" / "dashboards").glob("*.json"))
RULES_FILE = CHART / "files" / "alerts" / "qsr-platform.rules.yaml"
DECLARATION = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\""
    r"(?:,\s*\"[^\"]*\"\s*)?(?:,\s*(\[[^\]]*\]|\([^)]*\)|[A-Za-z_]\w*))?",
    re.S,
)
# Labels Prometheus adds from the ServiceMonitor's targets, and the histogram bucket bound.
TARGET_LABELS = {"namespace", "service", "pod", "job", "instance", "endpoint", "container"}
PROMQL_WORDS = {
    # functions
    "abs", "avg_over_time", "ceil", "changes", "clamp_max", "clamp_min", "count_over_time", "delta",
    "deriv", "floor", "histogram_quantile", "increase", "irate", "label_replace", "label_values",
    "max_over_time", "min_over_time", "predict_linear", "rate", "resets", "round", "scalar",
    "sort", "sort_desc", "sum_over_time", "time", "vector", "absent", "absent_over_time",
    # aggregations and keywords
    "sum", "avg", "min", "max", "count", "topk", "bottomk", "quantile", "stddev", "group",
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
    "offset",
}  # fmt: skip
DURATION = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")


def declared_metrics() -> dict[str, set[str]]:
    """Exposed series name -> label names, from the code's collector declarations
    (prometheus-client adds _total to counters and _bucket/_sum/_count to histograms)."""
    found: dict[str, set[str]] = {}
    for path in [*ROOT.glob("operator/**/*.py"), *ROOT.glob("services/**/*.py")]:
        text = path.read_text()
        for kind, name, labels in DECLARATION.findall(text):
            if re.fullmatch(r"[A-Za-z_]\w*", labels or "") and labels != "registry":
                assigned = re.search(rf"^\s*{labels}\s*=\s*(\([^)]*\)|\[[^\]]*\])", text, re.M)
                labels = assigned.group(1) if assigned else ""
            names = set(re.findall(r'"(\w+)"', labels or ""))
            if kind == "Counter":
                found[name.removesuffix("_total") + "_total"] = names
            elif kind == "Gauge":
                found[name] = names
            else:
                found.update({name: names, f"{name}_sum": names, f"{name}_count": names})
                if kind == "Histogram":
                    found[f"{name}_bucket"] = names | {"le"}
    return found


def exposed_metric_names() -> set[str]:
    return set(declared_metrics())


def labels_in(expr: str) -> set[str]:
    """Label names an expression matches on or groups by."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    matchers = {
        m
        for body in re.findall(r"\{([^}]*)\}", text)
        for m in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", body)
    }
    grouped = {
        label.strip()
        for clause in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", text)
        for label in clause.split(",")
        if label.strip()
    }
    return matchers | grouped


def unknown_labels(expr: str) -> set[str]:
    declared = declared_metrics()
    known = set(TARGET_LABELS)
    for name in metrics_in(expr):
        known |= declared.get(name, set())
    return labels_in(expr) - known


def metrics_in(expr: str) -> set[str]:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\$\w+", "", text)  # Grafana variables
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"[0-9eE.]+", w)}


def dashboard_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES_FILE.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_code_declares_the_metrics_the_dashboards_rely_on() -> None:
    names = exposed_metric_names()
    assert {
        "http_requests_total",
        "controller_runtime_reconcile_total",
        "qsr_consumer_lag",
    } <= names


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_valid_grafana_json(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    assert dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(panel["targets"] for panel in dashboard["panels"])


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_queries_name_only_metrics_the_code_exposes(path: Path) -> None:
    exprs = dashboard_exprs(json.loads(path.read_text()))
    unknown = {name for expr in exprs for name in metrics_in(expr)} - exposed_metric_names()
    assert unknown == set()


def test_dashboard_uids_are_unique() -> None:
    uids = [json.loads(path.read_text())["uid"] for path in DASHBOARDS]
    assert len(DASHBOARDS) >= 3
    assert len(uids) == len(set(uids))


def test_the_three_promised_dashboards_ship() -> None:
    assert {path.stem for path in DASHBOARDS} >= {"checkout-funnel", "accrual-lag", "operator"}


def test_rule_groups_have_unique_names_and_alerts() -> None:
    document = yaml.safe_load(RULES_FILE.read_text())
    groups = [group["name"] for group in document["groups"]]
    assert len(groups) == len(set(groups))
    alerts = [rule["alert"] for rule in rules()]
    assert len(alerts) == len(set(alerts))
    assert all(re.fullmatch(r"Qsr[A-Z][A-Za-z]+", alert) for alert in alerts)


def test_every_alert_has_severity_duration_and_text() -> None:
    for rule in rules():
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert DURATION.match(rule["for"])
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_alert_expressions_name_only_metrics_the_code_exposes() -> None:
    unknown = {name for rule in rules() for name in metrics_in(rule["expr"])}
    assert unknown - exposed_metric_names() == set()


def test_promised_alerts_ship() -> None:
    alerts = {rule["alert"] for rule in rules()}
    promised = {
        "QsrErrorBudgetFastBurn", "QsrDeadLetterQueueNotEmpty", "QsrConsumerLagGrowing",
        "QsrOperatorReconcileErrors",
    }  # fmt: skip
    assert promised <= alerts


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_queries_use_only_labels_the_metrics_carry(path: Path) -> None:
    exprs = dashboard_exprs(json.loads(path.read_text()))
    assert {label for expr in exprs for label in unknown_labels(expr)} == set()


def test_alert_expressions_use_only_labels_the_metrics_carry() -> None:
    assert {label for rule in rules() for label in unknown_labels(rule["expr"])} == set()


def test_declared_labels_are_read_from_the_code() -> None:
    declared = declared_metrics()
    assert declared["http_requests_total"] == {"method", "route", "status"}
    assert declared["qsr_consumer_lag"] == {"group", "topic", "partition"}
    assert "le" in declared["controller_runtime_reconcile_time_seconds_bucket"]


def test_label_extraction_sees_matchers_and_grouping() -> None:
    expr = 'sum by (a, b) (rate(x{c="1", d=~"2"}[5m])) / on (e) y'
    assert labels_in(expr) == {"a", "b", "c", "d", "e"}


def test_metric_extraction_sees_through_promql_syntax() -> None:
    expr = 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{route=~"/v1/a"}[5m]))) > 2'
    assert metrics_in(expr) == {"x_bucket"}
