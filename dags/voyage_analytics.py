"""
### Voyage analytics

Port calls and voyages from Silver AIS positions (Global Fishing Watch port-visit rules:
in within 3 km of a port, out beyond 4 km, stopped at <= 0.2 kn until >= 0.5 kn, 4 h
port gaps marked), schedules from Silver voyage events, and per route a 7-day rolling
delay rate and the period's on-time share and durations. Rules: `docs/VOYAGES.md`.

* **Input:** `<lake>/silver/ais_positions` (run after Asset `maritime.gold.vessel_daily_metrics`),
  `<lake>/silver/voyage_events`, `<lake>/reference/ports`.
* **Output:** `<lake>/gold/port_calls` (by arrival date), `<lake>/gold/voyages`,
  `<lake>/gold/route_delay_rolling` (by departure date) and `<lake>/gold/route_performance`
  (one set of rows per period); each run replaces exactly its days (`replaceWhere`).
* **Schedule:** daily at 02:00 UTC for the previous day, and also whenever the Gold
  daily metrics are recomputed (after Silver has been promoted).
  A voyage is written once it has arrived, under its departure day, so each run
  recomputes the 14 days up to the interval's day (which also takes in late positions):
  a voyage longer than that is only written by a backfill over its departure day.
* **Rerun / backfill:** safe:
  `airflow backfill create --dag-id voyage_analytics --from-date 2026-11-01 --to-date 2026-11-03`,
  or `maritime-voyage-analytics --start … --end …` for any range.
* **Emits:** Assets `maritime.gold.port_calls`, `maritime.gold.voyages`,
  `maritime.gold.route_delay_rolling`, `maritime.gold.route_performance`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.assets import (
    GOLD_PORT_CALLS,
    GOLD_ROUTE_DELAY_ROLLING,
    GOLD_ROUTE_PERFORMANCE,
    GOLD_VESSEL_DAILY_METRICS,
    GOLD_VOYAGES,
)
from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator

# Longer than the fleet's longest legs (the simulator's run up to 2,500 nm at 11 kn and more).
VOYAGE_WINDOW_DAYS = 14
# Asset-triggered runs have no data interval: they take the day they run after.
INTERVAL_DAY = "(data_interval_start | default(dag_run.run_after, true)) | ds"


@maritime_dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"), assets=[GOLD_VESSEL_DAILY_METRICS]
    ),
    start_date=datetime(2026, 11, 1),
    doc_md=__doc__,
    tags=["gold", "voyages", "spark"],
    retry_delay=timedelta(minutes=2),
    max_retry_delay=timedelta(minutes=20),
    execution_timeout=timedelta(hours=1),
)
def voyage_analytics():
    LakeSparkSubmitOperator(
        task_id="port_calls_and_voyages",
        doc_md="Port calls and voyages of the 14-day window, then route delays and performance.",
        job_module="maritime_jobs.voyage_analytics",
        # The interval [02:00 day D, 02:00 D+1) closes day D; its start's date is D.
        job_args=[
            "--start",
            f"{{{{ macros.ds_add({INTERVAL_DAY}, -{VOYAGE_WINDOW_DAYS - 1}) }}}}",
            "--end",
            f"{{{{ macros.ds_add({INTERVAL_DAY}, 1) }}}}",
        ],
        outlets=[GOLD_PORT_CALLS, GOLD_VOYAGES, GOLD_ROUTE_DELAY_ROLLING, GOLD_ROUTE_PERFORMANCE],
    )


voyage_analytics()
