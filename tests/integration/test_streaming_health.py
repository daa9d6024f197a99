"""Streaming health checks: lag against the real broker; liveness and freshness readers."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from maritimeiq.alerting import AlertState, Notifier
from maritimeiq.catalog import BRONZE_AIS_DATA, BRONZE_VOYAGE_EVENTS
from maritimeiq.config import AlertingConfig, LakeConfig
from maritimeiq.health import (
    bronze_freshness,
    check_consumer_lag,
    delta_last_commit,
    evaluate_freshness,
    evaluate_lag,
    evaluate_worker,
    progress_from_metrics,
    worker_health,
)

PER_PARTITION = {0: 7, 1: 5, 2: 3}
N = sum(PER_PARTITION.values())


class Capture:
    name = "capture"

    def __init__(self):
        self.alerts = []

    def send(self, alert):
        self.alerts.append(alert)


def capturing_notifier(tmp_path):
    capture = Capture()
    settings = AlertingConfig(state_path=str(tmp_path / "alerts.sqlite"))
    return Notifier(settings, [capture], AlertState(settings.state_path)), capture


@pytest.mark.integration
def test_lag_fires_p1_then_clears_after_the_group_commits(kafka_broker, unique_topic, tmp_path):
    from confluent_kafka import Consumer, Producer, TopicPartition

    producer = Producer(kafka_broker.client_config())
    for partition, count in PER_PARTITION.items():
        for i in range(count):
            producer.produce(unique_topic, value=f"m{i}".encode(), partition=partition)
    assert producer.flush(30) == 0
    group = f"test-health-{uuid.uuid4().hex[:8]}"
    notifier, capture = capturing_notifier(tmp_path)

    report = check_consumer_lag(kafka_broker, group, [unique_topic], threshold=N - 1)
    assert {p.partition: p.lag for p in report.partitions} == PER_PARTITION
    assert all(p.committed is None for p in report.partitions)
    assert report.total == N and report.exceeded
    assert evaluate_lag(report, notifier) is not None
    evaluate_lag(report, notifier)  # still lagging: de-duplicated
    assert [(a.severity, a.condition, a.resolved) for a in capture.alerts] == [("P1", f"consumer_lag:{group}", False)]
    assert f"{unique_topic}={N}" in capture.alerts[0].detail

    assert not check_consumer_lag(kafka_broker, group, [unique_topic], threshold=N).exceeded  # N is not above N

    committer = Consumer(kafka_broker.client_config(**{"group.id": group, "enable.auto.commit": False}))
    try:
        committer.commit(
            offsets=[TopicPartition(unique_topic, p, report.partitions[p].high_watermark) for p in PER_PARTITION],
            asynchronous=False,
        )
    finally:
        committer.close()
    cleared = check_consumer_lag(kafka_broker, group, [unique_topic], threshold=N - 1)
    assert cleared.total == 0 and not cleared.exceeded
    assert evaluate_lag(cleared, notifier) is None
    assert [(a.severity, a.resolved) for a in capture.alerts] == [("P1", False), ("P1", True)]
    evaluate_lag(cleared, notifier)  # already resolved: nothing more
    assert len(capture.alerts) == 2


def test_worker_progress_is_read_from_the_metrics_endpoint_text():
    exposition = (
        "# HELP bronze_last_progress_timestamp_seconds when the query last reported\n"
        "# TYPE bronze_last_progress_timestamp_seconds gauge\n"
        'bronze_last_progress_timestamp_seconds{topic="maritime.ais.data"} 1.7e+09\n'
        'bronze_last_progress_timestamp_seconds{topic="maritime.voyage.events"} 1.6e+09\n'
        'bronze_rows_total{topic="maritime.ais.data"} 12.0\n'
    )
    assert progress_from_metrics(exposition) == {"maritime.ais.data": 1.7e9, "maritime.voyage.events": 1.6e9}


def test_worker_is_stalled_only_when_messages_wait(tmp_path):
    now = 10_000.0
    assert not worker_health({"a": now - 1000}, {}, lag_total=0, now=now, stale_seconds=300).stalled  # idle
    assert not worker_health({"a": now - 100}, {}, lag_total=50, now=now, stale_seconds=300).stalled
    stalled = worker_health(None, {"bronze_a": now - 400}, lag_total=50, now=now, stale_seconds=300)
    assert (stalled.source, stalled.age_seconds, stalled.stalled) == ("checkpoint", 400.0, True)
    assert worker_health(None, {}, lag_total=1, now=now, stale_seconds=300).stalled  # never progressed

    notifier, capture = capturing_notifier(tmp_path)
    evaluate_worker(stalled, notifier)
    evaluate_worker(worker_health({"a": now}, {}, 50, now, 300), notifier)
    assert [(a.condition, a.resolved) for a in capture.alerts] == [
        ("bronze_worker_stalled", False),
        ("bronze_worker_stalled", True),
    ]


def test_freshness_reads_the_newest_delta_commit(tmp_path):
    lake = LakeConfig(root=str(tmp_path / "lake"), checkpoint_root=str(tmp_path / "cp"))
    log_dir = tmp_path / "lake" / "bronze" / "maritime_ais_data" / "_delta_log"
    log_dir.mkdir(parents=True)
    t0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
    for version, minutes in ((0, 0), (1, 20), (10, 40)):  # versions sort numerically, not as text
        lines = [
            {"commitInfo": {"timestamp": int((t0 + timedelta(minutes=minutes)).timestamp() * 1000)}},
            {"add": {"path": f"part-{version}.parquet"}},
        ]
        (log_dir / f"{version:020d}.json").write_text("\n".join(json.dumps(x) for x in lines))
    assert delta_last_commit(log_dir.parent) == t0 + timedelta(minutes=40)

    readings = bronze_freshness(
        lake, [BRONZE_AIS_DATA, BRONZE_VOYAGE_EVENTS], now=t0 + timedelta(minutes=55), max_age_minutes=30
    )
    assert [(r.table, r.age_minutes, r.stale) for r in readings] == [
        ("maritime_ais_data", pytest.approx(15.0), False),
        ("maritime_voyage_events", None, True),
    ]
    notifier, capture = capturing_notifier(tmp_path)
    evaluate_freshness(readings, notifier, 30)
    assert [a.condition for a in capture.alerts] == ["bronze_stale:maritime_voyage_events"]
