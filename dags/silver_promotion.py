"""
### Silver promotion

Hourly: the Bronze slice of every topic that arrived in the data interval is parsed with
the canonical schemas, checked by named rules and split into Silver, quarantine and
duplicates. Static data goes first, so the position rules know the high-speed craft.

* **Input:** `<lake>/bronze/<topic>` rows with `ingest_time` in
  `[data_interval_start, data_interval_end)`.
* **Output:** `<lake>/silver/ais_positions` (by event date; MERGE on MMSI, event time and
  message type), `vessel_static_reports` and `vessel_static` (history: `valid_from`,
  `valid_to`, `is_current`), `ais_other`, `environmental_readings`, `maintenance_events`,
  `voyage_events`, `fuel_reports` (by report date); `<table>_quarantine` per stream (rule
  names, raw payload, source offset; MERGE on the offset); `data_quality` (one record per
  stream and interval: rows in, valid, quarantined per rule, duplicates).
* **Late data:** an event is promoted in the interval in which it *arrived*; the MERGE
  puts it in its own (older) event-date partition, and Gold recomputes the day before.
* **Rerun / backfill:** safe. Every write is a MERGE on keys, so the same interval twice
  gives the same tables: `airflow backfill create --dag-id silver_promotion --from-date … --to-date …`.
* **Manual runs** (`airflow dags test`, triggers) cover the last complete hour before
  their logical date.
* **Emits:** Assets `maritime.silver.*` of the tables above.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.assets import (
    SILVER_AIS_POSITIONS,
    SILVER_ENVIRONMENTAL_READINGS,
    SILVER_FUEL_REPORTS,
    SILVER_MAINTENANCE_EVENTS,
    SILVER_VESSEL_STATIC,
    SILVER_VOYAGE_EVENTS,
)
from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator


@maritime_dag(
    # Interval semantics (Airflow 3's plain cron schedules have zero-length intervals):
    # the run of 12:00 promotes what arrived in [12:00, 13:00).
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    doc_md=__doc__,
    tags=["silver", "ais", "spark"],
    retry_delay=timedelta(minutes=1),
    max_retry_delay=timedelta(minutes=15),
    execution_timeout=timedelta(minutes=30),
)
def silver_promotion():
    interval = ["--start", "{{ data_interval_start | ts }}", "--end", "{{ data_interval_end | ts }}"]

    def streams(task_id: str, doc_md: str, names: list[str], outlets: list) -> LakeSparkSubmitOperator:
        return LakeSparkSubmitOperator(
            task_id=task_id,
            doc_md=doc_md,
            job_module="maritime_jobs.silver_streams",
            job_args=[*interval, *(a for n in names for a in ("--stream", n))],
            outlets=outlets,
        )

    static = streams(
        "promote_vessel_static",
        "Promotes static reports and other AIS messages, current vessel records.",
        ["vessel_static_reports", "ais_other"],
        [SILVER_VESSEL_STATIC],
    )
    positions = LakeSparkSubmitOperator(
        task_id="promote_ais_positions",
        job_module="maritime_jobs.silver_ais",
        doc_md="Validates, deduplicates and MERGEs the interval's AIS positions.",
        job_args=interval,
        outlets=[SILVER_AIS_POSITIONS],
    )
    sensors = streams(
        "promote_sensor_streams",
        "Promotes engine readings and maintenance events.",
        ["environmental_readings", "maintenance_events"],
        [SILVER_ENVIRONMENTAL_READINGS, SILVER_MAINTENANCE_EVENTS],
    )
    voyages = streams(
        "promote_voyage_streams",
        "Promotes voyage events and fuel reports.",
        ["voyage_events", "fuel_reports"],
        [SILVER_VOYAGE_EVENTS, SILVER_FUEL_REPORTS],
    )
    # One Spark driver at a time: the four jobs share a 2-core machine by default.
    static >> positions >> sensors >> voyages


silver_promotion()
