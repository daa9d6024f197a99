"""Streaming health checks: consumer lag, Bronze worker liveness, Bronze freshness.

Plain Python (no Spark): lag from the consumer group's committed offsets against the
high watermarks (:mod:`maritimeiq.kafka_lag`), worker progress from its Prometheus
endpoint (or, when that is down, the modification time of its checkpoints' newest
``offsets/`` file), freshness from the newest Delta commit's ``commitInfo.timestamp``.
These are monitoring checks, so they compare against the wall clock.

Each ``evaluate_*`` function turns a reading into alerts through a
:class:`~maritimeiq.alerting.Notifier`: sent (de-duplicated) while the condition holds,
a RESOLVED notice once it clears.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from maritimeiq import catalog
from maritimeiq.alerting import Alert, Notifier, quality_violations
from maritimeiq.config import KafkaConfig, LakeConfig
from maritimeiq.kafka_lag import PartitionLag, consumer_lag

HEALTH_DAG = "streaming_health"


# -- consumer lag -----------------------------------------------------------------------
@dataclass(frozen=True)
class LagReport:
    group: str
    partitions: tuple[PartitionLag, ...]
    threshold: int

    @property
    def total(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def exceeded(self) -> bool:
        return self.total > self.threshold

    def per_topic(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for p in self.partitions:
            totals[p.topic] = totals.get(p.topic, 0) + p.lag
        return totals


def monitored_topics(kafka: KafkaConfig) -> list[str]:
    """Every topic the Bronze worker consumes: source topics and their dead-letter
    topics (it lands both, and commits offsets for both)."""
    return [t.name for t in kafka.all_topics()]


def check_consumer_lag(
    kafka: KafkaConfig, group: str, topics: Sequence[str], threshold: int, timeout: float = 10.0
) -> LagReport:
    return LagReport(group, tuple(consumer_lag(kafka, group, list(topics), timeout=timeout)), threshold)


def _raise_or_clear(notifier: Notifier, alert: Alert, firing: bool) -> Alert | None:
    """Send the alert while its condition holds; once it clears, a RESOLVED notice."""
    if firing:
        notifier.send(alert)
        return alert
    notifier.resolve(alert)
    return None


def evaluate_lag(report: LagReport, notifier: Notifier, *, task_id: str = "consumer_lag") -> Alert | None:
    """P1 while total lag exceeds the threshold; a RESOLVED notice once it is back under."""
    worst = sorted(report.per_topic().items(), key=lambda kv: -kv[1])[:5]
    alert = Alert(
        "P1",
        f"Kafka consumer lag {report.total:,} > {report.threshold:,} for group {report.group}",
        f"consumer_lag:{report.group}",
        detail="largest per topic: " + ", ".join(f"{t}={n:,}" for t, n in worst),
        dag_id=HEALTH_DAG,
        task_id=task_id,
    )
    return _raise_or_clear(notifier, alert, report.exceeded)


# -- Bronze worker liveness -------------------------------------------------------------
def progress_from_metrics(text: str) -> dict[str, float]:
    """``bronze_last_progress_timestamp_seconds`` per topic from a Prometheus exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        sample.labels["topic"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "bronze_last_progress_timestamp_seconds"
        for sample in family.samples
    }


def scrape_progress(port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> dict[str, float] | None:
    """The worker's last-progress times, or None when its endpoint does not answer."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=timeout) as response:
            return progress_from_metrics(response.read().decode())
    except OSError:
        return None


def checkpoint_progress(lake: LakeConfig) -> dict[str, float]:
    """Per Bronze query: mtime of the newest file in its checkpoint's ``offsets/`` (a
    batch is planned there before it runs). Local checkpoints only."""
    root = Path(lake.checkpoint_path("bronze"))
    found = {}
    for query in sorted(p for p in root.glob("*") if (p / "offsets").is_dir()):
        times = [f.stat().st_mtime for f in (query / "offsets").iterdir() if f.name.isdigit()]
        if times:
            found[query.name] = max(times)
    return found


@dataclass(frozen=True)
class WorkerHealth:
    source: str  # "metrics" | "checkpoint" | "none"
    last_progress: float | None  # epoch seconds, newest over all queries
    age_seconds: float | None
    stalled: bool


def worker_health(
    progress: dict[str, float] | None, fallback: dict[str, float], lag_total: int, now: float, stale_seconds: float
) -> WorkerHealth:
    """Stalled = messages are waiting (lag > 0) but no query progressed for
    `stale_seconds`. An idle worker with nothing to read is healthy."""
    source, times = ("metrics", progress) if progress else ("checkpoint", fallback) if fallback else ("none", {})
    last = max(times.values()) if times else None
    age = now - last if last is not None else None
    stalled = lag_total > 0 and (age is None or age > stale_seconds)
    return WorkerHealth(source, last, age, stalled)


def evaluate_worker(health: WorkerHealth, notifier: Notifier, *, task_id: str = "bronze_worker") -> Alert | None:
    age = "never" if health.age_seconds is None else f"{health.age_seconds:,.0f} s ago"
    alert = Alert(
        "P1",
        "Bronze worker stalled: messages waiting, no progress",
        "bronze_worker_stalled",
        detail=f"last progress ({health.source}): {age}",
        dag_id=HEALTH_DAG,
        task_id=task_id,
    )
    return _raise_or_clear(notifier, alert, health.stalled)


# -- Bronze freshness -------------------------------------------------------------------
def delta_last_commit(table_path: str | Path) -> datetime | None:
    """Time of a Delta table's newest commit (``commitInfo.timestamp``, ms), read from
    ``_delta_log`` directly; None when the table does not exist."""
    log_dir = Path(table_path) / "_delta_log"
    commits = sorted(log_dir.glob("*.json"), key=lambda p: int(p.stem)) if log_dir.is_dir() else []
    for commit in reversed(commits):
        for line in commit.read_text().splitlines():
            info = json.loads(line).get("commitInfo") if line.strip() else None
            if info and "timestamp" in info:
                return datetime.fromtimestamp(info["timestamp"] / 1000, tz=UTC)
    return None


@dataclass(frozen=True)
class Freshness:
    table: str
    last_commit: datetime | None
    age_minutes: float | None
    stale: bool


def bronze_freshness(
    lake: LakeConfig, tables: Iterable[catalog.Table], now: datetime, max_age_minutes: float
) -> list[Freshness]:
    result = []
    for table in tables:
        last = delta_last_commit(table.path(lake.root))
        age = (now - last).total_seconds() / 60 if last else None
        result.append(Freshness(table.name, last, age, age is None or age > max_age_minutes))
    return result


def freshness_tables(kafka: KafkaConfig) -> list[catalog.Table]:
    """Bronze tables of the source topics that carry a steady flow. Dead-letter topics
    and the alerts topic are quiet by design, so their tables are not judged."""
    return [catalog.bronze_table(topic) for topic in kafka.topics if topic != catalog.ALERTS_TOPIC]


def evaluate_freshness(
    readings: Sequence[Freshness], notifier: Notifier, max_age_minutes: float, *, task_id: str = "bronze_freshness"
) -> list[Alert]:
    sent = []
    for reading in readings:
        age = "no commits" if reading.age_minutes is None else f"last commit {reading.age_minutes:,.1f} min ago"
        alert = Alert(
            "P1",
            f"Bronze table {reading.table} is stale",
            f"bronze_stale:{reading.table}",
            detail=f"{age}; limit {max_age_minutes:g} min",
            dag_id=HEALTH_DAG,
            task_id=task_id,
        )
        if _raise_or_clear(notifier, alert, reading.stale):
            sent.append(alert)
    return sent


# -- data quality -----------------------------------------------------------------------
def evaluate_quality(
    records: Iterable[dict],
    notifier: Notifier,
    threshold: float,
    *,
    dag_id: str | None = None,
    task_id: str | None = None,
) -> list[Alert]:
    """P3 per stream whose quarantine rate in an interval exceeds the threshold, over
    ``silver/data_quality`` records (stream, interval_start, rows_in, quarantined)."""
    sent = []
    for v in quality_violations(records, threshold):
        alert = Alert(
            "P3",
            f"Data quality: {v.stream} quarantined {v.rate:.1%} > {threshold:.1%}",
            f"quarantine_rate:{v.stream}",
            detail=f"interval {v.interval_start}: {v.quarantined:,} of {v.rows_in:,} rows quarantined",
            dag_id=dag_id,
            task_id=task_id,
        )
        notifier.send(alert)
        sent.append(alert)
    return sent
