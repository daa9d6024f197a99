"""
### Maintenance model retraining

Weekly: `maritime-maintenance-model train` builds one row per vessel and UTC day from
Silver engine readings and maintenance events, labels it with "a maintenance event on
one of the next 7 days", trains a RandomForest pipeline on all but the last two weeks
and evaluates it on those two weeks (see `docs/MAINTENANCE_MODEL.md`).

* **Input:** `<lake>/silver/environmental_readings`, `<lake>/silver/maintenance_events`
  (26 weeks of feature days ending with the last day of the interval, plus 120 days of
  history before them for running hours and trends).
* **Output:** an MLflow run (parameters, metrics, `feature_importances.json`, the Spark
  model) and a new version of the registered model `maritime-maintenance`. The alias
  `champion` moves to it only if it beats the majority-class baseline and, when a
  champion exists, the champion's ROC AUC re-scored on the same test weeks by 0.01; the
  version and run carry the tags `promotion_decision` and `promotion_reason` either way.
* **MLflow:** the tracking server of the `mlflow_default` Connection, handed to the job
  as `MLFLOW_TRACKING_URI`, with its login and password, if any, as
  `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD` (the job falls back to
  `mlflow.tracking_uri` of the platform configuration).
* **Schedule:** Mondays 03:00 UTC for the week that just ended (`--end` is the Sunday).
* **Rerun / backfill:** a rerun registers another version trained on the same days; on
  identical data it ties with the champion and does not move the alias. One retry only,
  so a failing run does not register a string of versions.
* **Emits:** Asset `maritime.model.maintenance` (the registered model);
  `maintenance_scoring` reads the champion at its next run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag
from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.assets import MODEL_MAINTENANCE
from maritimeiq.dag_defaults import default_args
from maritimeiq.operators import LakeSparkSubmitOperator


@dag(
    schedule=CronDataIntervalTimetable("0 3 * * 1", timezone="UTC"),
    start_date=datetime(2026, 11, 2),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["maritime", "ml", "maintenance", "spark"],
    # Overridable per run (UI "Trigger DAG w/ config", `airflow dags test -c`).
    params={"days": Param(182, type="integer", minimum=14), "horizon_days": Param(7, type="integer", minimum=1),
            "test_weeks": Param(2, type="integer", minimum=1)},
    default_args=default_args(retries=1, retry_delay=timedelta(minutes=10),
                              execution_timeout=timedelta(hours=2)),
)
def model_retraining():
    LakeSparkSubmitOperator(
        task_id="train_maintenance_model",
        job_module="maritime_jobs.maintenance_model",
        # The interval [Mon 03:00, next Mon 03:00) closes the week ending on the Sunday before its end.
        job_args=["train", "--end", "{{ macros.ds_add(data_interval_end | ds, -1) }}", "--days", "{{ params.days }}",
                  "--horizon-days", "{{ params.horizon_days }}", "--test-weeks", "{{ params.test_weeks }}"],
        mlflow_conn_id="mlflow_default",
        outlets=[MODEL_MAINTENANCE],
    )


model_retraining()
