"""Alert policy, message content, de-duplication and the P2/P3 rules."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from maritimeiq import alerting
from maritimeiq.alerting import (
    Alert,
    AlertState,
    KafkaChannel,
    Notifier,
    WebhookChannel,
    build_channels,
    duration_exceeds,
    failure_alert,
    failure_severity,
    latency_exceeds,
    quality_violations,
)
from maritimeiq.config import DEFAULT_FILE, PROJECT_ROOT, AlertingConfig, load_config
from maritimeiq.events import validate

LOG_URL = "http://127.0.0.1:8080/dags/gold_daily_metrics/runs/r1/tasks/fleet?try_number=2"


class Capture:
    name = "capture"

    def __init__(self):
        self.alerts: list[Alert] = []

    def send(self, alert):
        self.alerts.append(alert)


class Broken:
    name = "broken"

    def send(self, alert):
        raise ConnectionError("channel down")


class Clock:
    def __init__(self, t=1_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


def context(dag_id="gold_daily_metrics", exception: Exception | None = None):
    ti = SimpleNamespace(
        dag_id=dag_id,
        task_id="fleet",
        run_id="r1",
        try_number=2,
        log_url=LOG_URL,
        start_date=datetime.now(UTC) - timedelta(seconds=100),
    )
    return {
        "ti": ti,
        "exception": exception or ValueError("bad partition"),
        "logical_date": datetime(2026, 11, 1, tzinfo=UTC),
    }


def notifier(tmp_path, channels, clock=None, window=30.0):
    settings = AlertingConfig(
        production_dags=("gold_*", "silver_*"), dedupe_window_minutes=window, state_path=str(tmp_path / "alerts.sqlite")
    )
    return Notifier(settings, channels, AlertState(settings.state_path, clock or Clock()))


def test_severity_policy():
    production = ("gold_*", "streaming_health")
    assert failure_severity("gold_daily_metrics", production) == "P1"
    assert failure_severity("streaming_health", production) == "P1"
    assert failure_severity("sandbox_experiment", production) == "P3"
    with pytest.raises(ValueError):
        Alert("P4", "no such severity", "x")


def test_failure_message_carries_log_url_exception_and_try():
    alert = failure_alert(context(), ("gold_*",))
    assert (alert.severity, alert.dag_id, alert.task_id, alert.run_id, alert.try_number) == (
        "P1",
        "gold_daily_metrics",
        "fleet",
        "r1",
        2,
    )
    text = WebhookChannel.payload(alert)["text"]
    assert text.startswith("[P1] Task failed: gold_daily_metrics.fleet")
    assert f"log: {LOG_URL}" in text
    assert "exception: ValueError: bad partition" in text
    assert "try: 2" in text and "run: r1" in text


def test_kafka_alert_event_matches_the_canonical_schema():
    alert = failure_alert(context(), ("gold_*",))
    event = KafkaChannel.event(alert, datetime(2026, 11, 1, 12, tzinfo=UTC))
    assert validate(event) == []
    assert (event["event_type"], event["severity"], event["dag_id"], event["task_id"]) == (
        "alert",
        "P1",
        "gold_daily_metrics",
        "fleet",
    )
    assert LOG_URL in event["detail"]


def test_repeats_are_suppressed_within_the_window_and_sent_after(tmp_path):
    clock, capture = Clock(), Capture()
    n = notifier(tmp_path, [capture], clock)
    alert = failure_alert(context(), n.settings.production_dags)
    assert n.send(alert) is True
    clock.t += 29 * 60
    assert n.send(alert) is False
    other = Alert("P1", "another condition", "consumer_lag:g", dag_id="gold_daily_metrics", task_id="fleet")
    assert n.send(other) is True
    clock.t += 2 * 60  # 31 min after the first
    assert n.send(alert) is True
    assert [a.condition for a in capture.alerts] == ["task_failed", "consumer_lag:g", "task_failed"]


def test_dedupe_state_survives_a_new_notifier(tmp_path):
    clock, first, second = Clock(), Capture(), Capture()
    alert = Alert("P2", "slow", "duration_over_trailing_avg", dag_id="d", task_id="t")
    assert notifier(tmp_path, [first], clock).send(alert)
    assert not notifier(tmp_path, [second], clock).send(alert)
    assert second.alerts == []


def test_resolve_notifies_only_an_active_condition(tmp_path):
    capture = Capture()
    n = notifier(tmp_path, [capture])
    alert = Alert("P1", "lag", "consumer_lag:g", dag_id="streaming_health", task_id="consumer_lag")
    assert n.resolve(alert) is False
    n.send(alert)
    assert n.resolve(alert) is True
    assert n.resolve(alert) is False
    assert [a.resolved for a in capture.alerts] == [False, True]
    assert capture.alerts[1].text().startswith("[P1] RESOLVED lag")


def test_a_failing_channel_is_logged_and_the_others_still_deliver(tmp_path, caplog):
    capture = Capture()
    n = notifier(tmp_path, [Broken(), capture])
    with caplog.at_level(logging.ERROR, logger="maritime.alerts"):
        assert n.send(Alert("P3", "dq", "quarantine_rate:ais_positions"))
    assert len(capture.alerts) == 1
    assert "alert channel broken failed" in caplog.text


def test_on_task_failure_never_raises(tmp_path, monkeypatch, caplog):
    override = tmp_path / "platform.yaml"
    override.write_text(
        f"alerting:\n  state_path: {tmp_path / 'state.sqlite'}\n"
        "  channels: {webhook: {enabled: true, timeout_seconds: 1}, kafka: {enabled: false}}\n"
    )
    monkeypatch.setattr(alerting, "get_config", lambda: load_config(environ={"MARITIME_CONFIG": str(override)}))
    monkeypatch.setenv(alerting.WEBHOOK_URL_ENV, "http://127.0.0.1:9/unreachable")
    with caplog.at_level(logging.ERROR, logger="maritime.alerts"):
        alerting.on_task_failure(context())
    assert "alert channel webhook failed" in caplog.text
    assert '"log_url": "' + LOG_URL in caplog.text


def test_settings_are_the_alerting_section_of_the_platform_configuration(tmp_path):
    override = tmp_path / "platform.yaml"
    override.write_text(
        "alerting:\n  production_dags: [gold_*]\n  dedupe_window_minutes: 5\n"
        "  state_path: x/alerts.sqlite\n  thresholds: {consumer_lag_messages: 42}\n"
    )
    settings = load_config(environ={"MARITIME_CONFIG": str(override)}).alerting
    assert settings.production_dags == ("gold_*",)
    assert settings.dedupe_window_minutes == 5.0
    # Relative state paths resolve against the project, not the working directory.
    assert settings.state_path == str(PROJECT_ROOT / "x" / "alerts.sqlite")
    assert settings.thresholds.consumer_lag_messages == 42
    assert settings.thresholds.duration_ratio == 2.0  # untouched keys keep the shipped values


def test_shipped_config_keeps_secrets_out():
    settings = load_config(environ={}).alerting
    text = DEFAULT_FILE.read_text().lower()
    assert "hooks." not in text and "password:" not in text
    assert settings.thresholds.consumer_lag_messages == 10_000
    assert settings.dedupe_window_minutes == 30.0
    assert settings.state_path == str(PROJECT_ROOT / "var" / "alerts.sqlite")


def test_channels_follow_the_channel_settings(monkeypatch):
    monkeypatch.delenv(alerting.WEBHOOK_URL_ENV, raising=False)
    assert [c.name for c in build_channels(AlertingConfig())] == ["log"]
    email = AlertingConfig.model_validate(
        {
            "channels": {
                "email": {
                    "enabled": True,
                    "smtp_host": "mail.example",
                    "smtp_port": 587,
                    "from": "ops@example.org",
                    "to": ["oncall@example.org"],
                    "starttls": True,
                }
            }
        }
    )
    channels = build_channels(email)
    assert [c.name for c in channels] == ["log", "email"]
    email_channel = channels[1]
    assert (
        email_channel.host,
        email_channel.port,
        email_channel.sender,
        email_channel.recipients,
        email_channel.starttls,
    ) == ("mail.example", 587, "ops@example.org", ["oncall@example.org"], True)


def test_p2_duration_rule_by_hand():
    history = [100.0, 120.0, 80.0]  # mean 100 s
    assert duration_exceeds(history, 201.0)
    assert not duration_exceeds(history, 200.0)  # exactly 2x is not above
    assert not duration_exceeds([100.0, 100.0], 1000.0)  # too little history
    assert duration_exceeds([10.0, 10.0, 10.0, 10.0], 31.0, ratio=3.0)
    assert latency_exceeds(1.2) and not latency_exceeds(1.0)


def test_p3_quality_rule_by_hand():
    t = datetime(2026, 11, 1, 12)
    records = [
        {"stream": "ais_positions", "interval_start": t, "rows_in": 1000, "quarantined": 60},  # 6 %
        {"stream": "ais_positions", "interval_start": t + timedelta(hours=1), "rows_in": 1000, "quarantined": 50},
        {"stream": "fuel_reports", "interval_start": t, "rows_in": 0, "quarantined": 0},  # empty interval
        {"stream": "voyage_events", "interval_start": t, "rows_in": 10, "quarantined": 1},  # 10 %
    ]
    found = quality_violations(records, threshold=0.05)
    assert [(v.stream, v.interval_start, v.quarantined) for v in found] == [
        ("ais_positions", t, 60),
        ("voyage_events", t, 1),
    ]
    assert [v.rate for v in found] == pytest.approx([0.06, 0.1])


def test_slow_spark_task_raises_p2_once_history_exists(tmp_path, monkeypatch):
    capture = Capture()
    n = notifier(tmp_path, [capture])
    monkeypatch.setattr(alerting, "get_notifier", lambda: n)
    for run, seconds in enumerate([40.0, 50.0, 60.0]):  # mean 50 s
        n.state.record_duration("gold_daily_metrics", "fleet", f"old{run}", seconds)
    ti = context()["ti"]
    ti.start_date = datetime.now(UTC) - timedelta(seconds=80)  # 1.6x the mean
    alerting.on_spark_task_success({"ti": ti})
    assert capture.alerts == []
    ti.start_date, ti.run_id = datetime.now(UTC) - timedelta(seconds=300), "r2"  # mean now 57.5 s
    alerting.on_spark_task_success({"ti": ti})
    assert [(a.severity, a.condition, a.task_id) for a in capture.alerts] == [
        ("P2", "duration_over_trailing_avg", "fleet")
    ]
    assert len(n.state.durations("gold_daily_metrics", "fleet", 10)) == 5
