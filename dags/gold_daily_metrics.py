"""
### Gold daily metrics

`vessel_daily_metrics` per MMSI and UTC day from Silver AIS positions: positions,
average and maximum SOG, distance sailed (haversine sum between consecutive fixes),
hours under way versus at anchor or moored, first and last position, reporting gaps
over one hour. Then `fleet_daily_kpis` per ship type (IMO CII category, else AIS type
group): active vessels, distance, hours and average speed under way, quarantine rate.

* **Input:** `<lake>/silver/ais_positions` (Asset `maritime.silver.ais_positions`),
  `silver/vessel_static`, `silver/ais_positions_quarantine`.
* **Output:** `<lake>/gold/vessel_daily_metrics` and `<lake>/gold/fleet_daily_kpis`,
  partitioned by `event_date`; each run replaces exactly the days it computes
  (`replaceWhere`).
* **Schedule:** daily at 01:00 UTC for the previous day, and also whenever Silver
  changes. Each run recomputes its day and the day before, so positions that arrived
  late for yesterday are counted.
* **Rerun / backfill:** safe:
  `airflow backfill create --dag-id gold_daily_metrics --from-date 2026-11-01T01:00:00
  --to-date 2026-11-03T01:00:00` (the interval [D 01:00, D+1 01:00) closes day D; a
  date-only end stops a day short).
* **Emits:** Assets `maritime.gold.vessel_daily_metrics`, `maritime.gold.fleet_daily_kpis`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.assets import GOLD_FLEET_DAILY_KPIS, GOLD_VESSEL_DAILY_METRICS, SILVER_AIS_POSITIONS
from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator


@maritime_dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("0 1 * * *", timezone="UTC"), assets=[SILVER_AIS_POSITIONS]
    ),
    start_date=datetime(2026, 11, 1),
    doc_md=__doc__,
    tags=["gold", "ais", "spark"],
    retry_delay=timedelta(minutes=2),
    max_retry_delay=timedelta(minutes=20),
    execution_timeout=timedelta(hours=1),
)
def gold_daily_metrics():
    # The interval [01:00 day D, 01:00 D+1) closes day D; its start's date is D.
    day = "((data_interval_start | default(dag_run.run_after, true)) | ds)"
    days = ["--start", f"{{{{ macros.ds_add({day}, -1) }}}}", "--end", f"{{{{ macros.ds_add({day}, 1) }}}}"]
    vessels = LakeSparkSubmitOperator(
        task_id="vessel_daily_metrics",
        job_module="maritime_jobs.gold_vessel_daily",
        doc_md="Per-vessel metrics for the interval's day and the day before.",
        job_args=days,
        outlets=[GOLD_VESSEL_DAILY_METRICS],
    )
    fleet = LakeSparkSubmitOperator(
        task_id="fleet_daily_kpis",
        job_module="maritime_jobs.gold_fleet_daily",
        doc_md="Per-ship-type KPIs of the same days, from the vessel metrics.",
        job_args=days,
        outlets=[GOLD_FLEET_DAILY_KPIS],
    )
    vessels >> fleet


gold_daily_metrics()
