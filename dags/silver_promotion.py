"""
### Silver promotion (AIS positions)

Hourly: the Bronze slice of `maritime.ais.data` that arrived in the data interval is
parsed with the canonical `ais_position` schema, checked by named rules and split into
Silver, quarantine and duplicates.

* **Input:** `<lake>/bronze/maritime_ais_data`, rows with `ingest_time` in
  `[data_interval_start, data_interval_end)`.
* **Output:** `<lake>/silver/ais_positions` (partitioned by event date, MERGE on MMSI,
  event time and message type), `<lake>/silver/ais_positions_quarantine` (rule names,
  raw payload, source offset; MERGE on the offset), `<lake>/silver/data_quality`
  (one record per stream and interval).
* **Late data:** an event is promoted in the interval in which it *arrived*; the MERGE
  puts it in its own (older) event-date partition.
* **Rerun / backfill:** safe. Every write is a MERGE on keys, so the same interval twice
  gives the same tables: `airflow backfill create --dag-id silver_promotion --from-date … --to-date …`.
* **Manual runs** (`airflow dags test`, triggers) cover the last complete hour before
  their logical date.
* **Emits:** Asset `maritime.silver.ais_positions`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag
from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.assets import SILVER_AIS_POSITIONS
from maritimeiq.dag_defaults import default_args
from maritimeiq.operators import LakeSparkSubmitOperator


@dag(
    # Interval semantics (Airflow 3's plain cron schedules have zero-length intervals):
    # the run of 12:00 promotes what arrived in [12:00, 13:00).
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["maritime", "silver", "ais", "spark"],
    default_args=default_args(retry_delay=timedelta(minutes=1), max_retry_delay=timedelta(minutes=15),
                              execution_timeout=timedelta(minutes=30)),
)
def silver_promotion():
    LakeSparkSubmitOperator(
        task_id="promote_ais_positions",
        job_module="maritime_jobs.silver_ais",
        job_args=["--start", "{{ data_interval_start | ts }}", "--end", "{{ data_interval_end | ts }}"],
        outlets=[SILVER_AIS_POSITIONS],
    )


silver_promotion()
