"""
### Streaming health

Every 5 minutes, three checks of the Kafka → Bronze path (`include/maritimeiq/health.py`):

* **consumer_lag:** committed offsets of the Bronze consumer group
  (`bronze.consumer_group`) against the high watermarks of every topic it consumes,
  source and dead-letter alike. **P1** when the total exceeds
  `alerting.thresholds.consumer_lag_messages` in `conf/platform.yaml` (default 10,000).
* **bronze_worker:** the worker's `bronze_last_progress_timestamp_seconds` from its
  Prometheus endpoint (127.0.0.1:`bronze.metrics_port`), else the newest checkpoint
  `offsets/` file. **P1** when messages wait (lag > 0) and nothing progressed for
  `worker_stale_seconds`. An idle worker with no lag is healthy.
* **bronze_freshness:** newest `_delta_log` commit of each source topic's Bronze table
  (dead-letter and alert tables are quiet by design). **P1** when older than
  `bronze_freshness_minutes`.

Alerts go through the platform notifier (log, webhook, email, `maritime.alerts`),
de-duplicated for 30 minutes; when a condition clears a RESOLVED notice is sent.
A task fails only when its check cannot run (e.g. the broker is unreachable): that is
reported by the usual failure alert.

* **Rerun / backfill:** meaningless (checks the present); `catchup=False`.
* **Runbook:** `docs/OPERATIONS.md`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import task
from airflow.timetables.trigger import CronTriggerTimetable

from maritimeiq.dag_factory import maritime_dag


@maritime_dag(
    schedule=CronTriggerTimetable("*/5 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    doc_md=__doc__,
    tags=["ops", "kafka", "bronze"],
    retries=1,
    retry_delay=timedelta(seconds=30),
    execution_timeout=timedelta(minutes=4),
)
def streaming_health():
    @task
    def consumer_lag() -> int:
        """Total lag of the Bronze consumer group; P1 above the threshold."""
        from maritimeiq.alerting import get_notifier
        from maritimeiq.config import get_config
        from maritimeiq.health import check_consumer_lag, evaluate_lag, monitored_topics

        config, notifier = get_config(), get_notifier()
        report = check_consumer_lag(
            config.kafka,
            config.bronze.consumer_group,
            monitored_topics(config.kafka),
            notifier.settings.thresholds.consumer_lag_messages,
        )
        evaluate_lag(report, notifier)
        print(f"group {report.group}: total lag {report.total:,} ({report.per_topic()})")
        return report.total

    @task
    def bronze_worker(lag_total: int) -> None:
        """P1 when messages wait and the Bronze worker has not progressed for too long."""
        import time

        from maritimeiq.alerting import get_notifier
        from maritimeiq.config import get_config
        from maritimeiq.health import checkpoint_progress, evaluate_worker, scrape_progress, worker_health

        config, notifier = get_config(), get_notifier()
        health = worker_health(
            scrape_progress(config.bronze.metrics_port),
            checkpoint_progress(config.lake),
            lag_total,
            time.time(),
            notifier.settings.thresholds.worker_stale_seconds,
        )
        evaluate_worker(health, notifier)
        print(f"bronze worker: {health}")

    @task
    def bronze_freshness() -> None:
        """P1 for each source topic's Bronze table without a commit for too long."""
        from datetime import datetime

        from maritimeiq.alerting import get_notifier
        from maritimeiq.config import get_config
        from maritimeiq.health import bronze_freshness, evaluate_freshness, freshness_tables

        config, notifier = get_config(), get_notifier()
        limit = notifier.settings.thresholds.bronze_freshness_minutes
        readings = bronze_freshness(config.lake, freshness_tables(config.kafka), datetime.now(UTC), limit)
        evaluate_freshness(readings, notifier, limit)
        for reading in readings:
            print(reading)

    bronze_worker(consumer_lag())
    bronze_freshness()


streaming_health()
