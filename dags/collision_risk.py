"""
### Collision risk (CPA/TCPA)

Every 15 minutes: ships' latest fix per minute from Silver positions with `event_time` in
the data interval, paired within 6 nm through a grid join, CPA/TCPA from relative motion
(ARPA definition, IMO Res. A.823(19)). A pair is a risk when DCPA < 0.5 nm and
0 ≤ TCPA ≤ 20 min.

* **Input:** `<lake>/silver/ais_positions` (Asset `maritime.silver.ais_positions`).
* **Output:** `<lake>/gold/collision_alerts`, partitioned by `bucket_date`, one row per
  risky pair and minute; each run replaces exactly its interval's minutes (`replaceWhere`).
* **Alerts:** the first minute of each risky run of minutes is published as a P2 `alert`
  event to `maritime.alerts`, keyed by `alert_id` = hash(pair, minute): a rerun sends the
  same ids, so consumers deduplicate.
* **Latency:** Silver is promoted hourly, so a run sees the positions promoted by then;
  rerun (clear) the intervals of the last hour after Silver promotion for complete
  results, or run Silver promotion more often.
* **Rerun / backfill:** safe, but a backfill republishes its alerts (same ids).
* **Emits:** Asset `maritime.gold.collision_alerts`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.assets import GOLD_COLLISION_ALERTS
from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator


@maritime_dag(
    schedule=CronDataIntervalTimetable("*/15 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    doc_md=__doc__,
    tags=["gold", "ais", "safety", "spark"],
    retries=2,
    retry_delay=timedelta(minutes=1),
    max_retry_delay=timedelta(minutes=5),
    execution_timeout=timedelta(minutes=14),
)
def collision_risk():
    LakeSparkSubmitOperator(
        task_id="collision_alerts",
        job_module="maritime_jobs.collision_risk",
        doc_md="Finds the interval's risky pairs, writes their minutes and publishes each new risk as an alert.",
        job_args=[
            "--start",
            "{{ data_interval_start | ts }}",
            "--end",
            "{{ data_interval_end | ts }}",
            "--publish",
            "--dag-id",
            "{{ dag.dag_id }}",
            "--task-id",
            "{{ task.task_id }}",
        ],
        outlets=[GOLD_COLLISION_ALERTS],
    )


collision_risk()
