"""Prometheus rules and the Grafana dashboard: valid, tested, and only over metrics the
platform exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "ops" / "prometheus"
DASHBOARD = ROOT / "ops" / "grafana" / "dashboards" / "maritime.json"
PROMTOOL = shutil.which("promtool")
# Label names and PromQL words that look like identifiers.
NOT_METRICS = {
    "sum",
    "max",
    "min",
    "avg",
    "rate",
    "time",
    "by",
    "on",
    "and",
    "or",
    "unless",
    "without",
    "avg_over_time",
    "quantile_over_time",
    "histogram_quantile",
    "topic",
    "partition",
    "job",
    "instance",
    "le",
}


def exported_metrics() -> set[str]:
    """Metric names the Bronze worker and the producers register, read from their
    source (histograms with their series suffixes), plus `up`."""
    names = {"up"}
    for module in ("bronze.py", "producer.py"):
        source = (ROOT / "streaming" / "maritime_streaming" / module).read_text()
        for kind, name in re.findall(r'(Gauge|Counter|Histogram|Summary)\(\s*"([a-z_:]+)"', source):
            names.add(name)
            if kind == "Histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # label values
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\b(?:by|on|without)\s*\([^)]*\)", "", expr)  # matchers, ranges, groupings
    return {name for name in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr) if name not in NOT_METRICS}


def rules() -> list[dict]:
    return [
        rule for group in yaml.safe_load((PROMETHEUS / "rules.yml").read_text())["groups"] for rule in group["rules"]
    ]


def test_metric_name_extraction():
    assert metric_names('sum by (topic) (rate(bronze_rows_total{topic=~".+\\\\.dlq"}[5m])) > 0.05') == {
        "bronze_rows_total"
    }
    assert metric_names("time() - max(x_seconds) > 300 and on() y:sum > 0") == {"x_seconds", "y:sum"}


def test_rules_reference_only_exported_metrics():
    known = exported_metrics() | {rule["record"] for rule in rules() if "record" in rule}
    assert {"bronze_rows_total", "bronze_offsets_behind_latest", "bronze_batch_duration_ms"} <= known
    for rule in rules():
        unknown = metric_names(rule["expr"]) - known
        assert not unknown, f"{rule.get('alert') or rule['record']}: unknown metrics {unknown}"


def test_alerts_follow_the_severity_policy_and_are_all_tested():
    alerts = [rule for rule in rules() if "alert" in rule]
    assert {rule["labels"]["severity"] for rule in alerts} == {"P1", "P2", "P3"}
    assert all(rule["annotations"]["runbook"].startswith("docs/OPERATIONS.md#") for rule in alerts)
    tested = {
        case["alertname"]
        for test in yaml.safe_load((PROMETHEUS / "rules_test.yml").read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    }
    assert {rule["alert"] for rule in alerts} == tested


def test_dashboard_queries_exported_metrics():
    dashboard = json.loads(DASHBOARD.read_text())
    known = exported_metrics()
    titles = [panel["title"].lower() for panel in dashboard["panels"]]
    for wanted in ("ingest rate", "consumer lag", "batch latency p99", "quarantine rate", "dlq rate"):
        assert any(title.startswith(wanted) for title in titles), wanted
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            if "expr" in target:
                assert metric_names(target["expr"]) <= known, (panel["title"], target["expr"])


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian: apt-get install prometheus)")
def test_promtool_checks_and_unit_tests_pass():
    for args in (["check", "config", "prometheus.yml"], ["test", "rules", "rules_test.yml"]):
        run = subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
