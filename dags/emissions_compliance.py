"""
### Emissions and IMO CII compliance

Daily CO2 per vessel (fuel reports x MEPC.364(79) C_F, the day's distance counted once
however many fuels it burnt; AIS-based estimate with the Fourth IMO GHG Study method,
main engine with the low-load SFC correction plus auxiliaries and boilers by operating
phase, for a vessel's years without fuel reports), attained and
required CII (MEPC.352/353(78)), A-E ratings (MEPC.354(78)), corrective-action-plan
flags and each vessel's rating trajectory to 2030. Details: `docs/EMISSIONS.md`.

* **Input:** `<lake>/silver/fuel_reports`, `<lake>/silver/ais_positions`,
  `<lake>/silver/vessel_static`, `<lake>/gold/vessel_daily_metrics`.
* **Output:** `<lake>/gold/co2_daily`, `<lake>/gold/cii_ratings`,
  `<lake>/gold/cii_trajectory`, `<lake>/gold/fuel_report_quarantine`; each run replaces
  its reporting year (`replaceWhere`). Report (Markdown, CSV, PNG) in `<lake>/../reports`.
* **Schedule:** daily at 03:00 UTC, after `gold_daily_metrics`, and whenever both
  Gold daily metrics and Silver fuel reports have changed. The run recomputes the year
  of its data interval (year to date); the run of 1 January closes the previous year.
  Asset-triggered runs have no data interval and take the year of their trigger time.
* **Rerun / backfill:** safe, the same year gives the same tables:
  `airflow dags trigger emissions_compliance` or
  `maritime-emissions-compliance --compliance-check imo-2030 --year 2026`.
* **Emits:** Asset `maritime.gold.cii_ratings`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.assets import (
    GOLD_CII_RATINGS,
    GOLD_CII_TRAJECTORY,
    GOLD_CO2_DAILY,
    GOLD_VESSEL_DAILY_METRICS,
    SILVER_FUEL_REPORTS,
)
from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator


@maritime_dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("0 3 * * *", timezone="UTC"),
        assets=[GOLD_VESSEL_DAILY_METRICS, SILVER_FUEL_REPORTS],
    ),
    start_date=datetime(2026, 11, 1),
    doc_md=__doc__,
    tags=["gold", "emissions", "cii", "spark"],
    retry_delay=timedelta(minutes=2),
    max_retry_delay=timedelta(minutes=20),
    execution_timeout=timedelta(hours=2),
)
def emissions_compliance():
    LakeSparkSubmitOperator(
        task_id="cii_compliance",
        doc_md="Recomputes the reporting year's CO2, CII ratings and trajectory, then writes the compliance report.",
        job_module="maritime_jobs.emissions_compliance",
        # The interval [03:00 day D, 03:00 D+1) closes day D: its start's year is the reporting
        # year. Asset-triggered runs have no data interval in Airflow 3: they use run_after.
        job_args=[
            "--compliance-check",
            "imo-2030",
            "--year",
            "{{ (data_interval_start | default(dag_run.run_after, true)).year }}",
        ],
        outlets=[GOLD_CII_RATINGS, GOLD_CO2_DAILY, GOLD_CII_TRAJECTORY],
    )


emissions_compliance()
