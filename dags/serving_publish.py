"""
### Serving publish

Daily at 05:00 UTC, after the Gold DAGs: one day of the Gold tables is copied to the
operational SQL database (`serving.database_url`; SQLite under `var/serving/` by
default, Postgres by URL) for applications and dashboards.

* **Input:** `<lake>/gold/vessel_daily_metrics`, `fleet_daily_kpis` (by `event_date`),
  `voyages` (by `departure_date`), `maintenance_predictions` (by `date`), `cii_ratings`
  (the day's year, rated year to date); tables not written yet are skipped.
* **Output:** the same-named SQL tables. Each run deletes the day's rows and inserts
  the new ones in one transaction; the schema is migrated first (`schema_version`).
* **Schedule:** the interval [05:00 day D, 05:00 D+1) publishes day D.
* **Rerun / backfill:** safe:
  `airflow backfill create --dag-id serving_publish --from-date 2026-11-01 --to-date 2026-11-03`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.assets import (
    GOLD_CII_RATINGS,
    GOLD_FLEET_DAILY_KPIS,
    GOLD_MAINTENANCE_PREDICTIONS,
    GOLD_VESSEL_DAILY_METRICS,
    GOLD_VOYAGES,
)
from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator


@maritime_dag(
    schedule=CronDataIntervalTimetable("0 5 * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    doc_md=__doc__,
    tags=["serving", "gold", "spark"],
    retry_delay=timedelta(minutes=2),
    execution_timeout=timedelta(minutes=30),
)
def serving_publish():
    LakeSparkSubmitOperator(
        task_id="publish_gold",
        doc_md="Replaces the day's rows of the serving database with its Gold rows.",
        job_module="maritime_jobs.serving_publish",
        job_args=[
            "--start",
            "{{ data_interval_start | ds }}",
            "--end",
            "{{ macros.ds_add(data_interval_start | ds, 1) }}",
        ],
        inlets=[
            GOLD_VESSEL_DAILY_METRICS,
            GOLD_FLEET_DAILY_KPIS,
            GOLD_VOYAGES,
            GOLD_MAINTENANCE_PREDICTIONS,
            GOLD_CII_RATINGS,
        ],
    )


serving_publish()
