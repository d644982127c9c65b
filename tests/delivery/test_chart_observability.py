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
    r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"", re.S
)
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


def exposed_metric_names() -> set[str]:
    """Series names the code exposes: prometheus-client adds _total, _bucket, _sum, _count."""
    names: set[str] = set()
    for path in [*ROOT.glob("operator/**/*.py"), *ROOT.glob("services/**/*.py")]:
        for kind, name in DECLARATION.findall(path.read_text()):
            if kind == "Counter":
                names.add(name.removesuffix("_total") + "_total")
            elif kind == "Gauge":
                names.add(name)
            else:
                names.update({name, f"{name}_sum", f"{name}_count"})
                if kind == "Histogram":
                    names.add(f"{name}_bucket")
    return names


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


def test_metric_extraction_sees_through_promql_syntax() -> None:
    expr = 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{route=~"/v1/a"}[5m]))) > 2'
    assert metrics_in(expr) == {"x_bucket"}
