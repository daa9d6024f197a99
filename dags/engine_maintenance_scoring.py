"""
### Engine maintenance scoring

Daily: the `champion` version of the registered model `maritime-maintenance` scores every
vessel with engine readings on the previous UTC day: the probability of a maintenance
event in the next 7 days and the predicted class (`maritime-engine-model score`).

* **Input:** `<lake>/silver/environmental_readings` and `<lake>/silver/maintenance_events`
  (the day and the 120 days before it), the champion from the MLflow registry.
* **Output:** `<lake>/gold/maintenance_predictions` (`mmsi`, `date`, `probability`,
  `predicted`, `model_name`, `model_version`), partitioned by `date`; each run replaces
  exactly its day (`replaceWhere`).
* **MLflow:** the tracking server of the `mlflow_default` Connection, handed to the job
  as `MLFLOW_TRACKING_URI` (its login and password, if any, as
  `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`). Fails with a clear message
  while no champion exists: run `engine_model_retraining` first.
* **Schedule:** daily at 02:00 UTC for the previous day, after the hourly Silver promotion
  of that day's last hour.
* **Rerun / backfill:** safe: the same day and champion give the same rows. A rerun after
  a promotion rescores the day with the new champion (`model_version` says which).
* **Emits:** Asset `maritime.gold.maintenance_predictions`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.assets import GOLD_MAINTENANCE_PREDICTIONS
from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator


@maritime_dag(
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=datetime(2026, 11, 1),
    doc_md=__doc__,
    tags=["ml", "maintenance", "gold", "spark"],
    retry_delay=timedelta(minutes=2),
    max_retry_delay=timedelta(minutes=20),
    execution_timeout=timedelta(hours=1),
)
def engine_maintenance_scoring():
    LakeSparkSubmitOperator(
        task_id="score_maintenance",
        doc_md="Scores each vessel's engine readings of the day with the champion model.",
        job_module="maritime_jobs.engine_model",
        # The interval [02:00 day D, 02:00 D+1) closes day D; its start's date is D.
        job_args=[
            "score",
            "--start",
            "{{ data_interval_start | ds }}",
            "--end",
            "{{ macros.ds_add(data_interval_start | ds, 1) }}",
        ],
        mlflow_conn_id="mlflow_default",
        outlets=[GOLD_MAINTENANCE_PREDICTIONS],
    )


engine_maintenance_scoring()
