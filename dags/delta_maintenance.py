"""
### Delta maintenance

Daily `OPTIMIZE` and `VACUUM` of every table of the catalog (`maritimeiq.catalog`, with
the platform configuration's `table_maintenance` overrides): Z-ordered by the columns readers
filter on (`silver/ais_positions`: `mmsi`, `event_time`; Gold: `mmsi`), compaction only
for Bronze; partitioned tables only over their recent partitions (`recent_days`).
Tables with `cadence: weekly` are maintained when the run date is a Sunday.

* **Input / output:** the catalog's tables under `<lake>/`; tables not created yet are
  skipped. One record per table and run in `<lake>/ops/maintenance_log` (files, bytes and
  versions before and after, duration, status, error), MERGEd on (run_date, table_name).
* **Schedule:** 04:30 UTC; the run date is the end of the data interval (the day the run
  happens), so the Sunday run does the weekly tables.
* **Safety:** VACUUM retention below 168 hours is refused (config or
  `--vacuum-retention-hours`) before any table is touched; Delta's retention check stays
  on. OPTIMIZE runs safely beside the streaming Bronze writers (blind appends do not
  conflict); a conflicting commit is retried.
* **Failure:** a failing table is logged as `failed` and the task fails after the others
  are done; rerunning the day is safe.
* **Runbook:** `docs/OPERATIONS_DELTA.md`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator


@maritime_dag(
    schedule=CronDataIntervalTimetable("30 4 * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    doc_md=__doc__,
    tags=["ops", "delta", "spark"],
    retries=2,
    retry_delay=timedelta(minutes=5),
    max_retry_delay=timedelta(minutes=30),
    execution_timeout=timedelta(hours=2),
)
def delta_maintenance():
    LakeSparkSubmitOperator(
        task_id="optimize_and_vacuum",
        job_module="maritime_jobs.delta_maintenance",
        doc_md="OPTIMIZE and VACUUM of the tables due today, logged in `ops/maintenance_log`.",
        job_args=["--date", "{{ data_interval_end | ds }}"],
    )


delta_maintenance()
