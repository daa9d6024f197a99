"""
### Engine maintenance model retraining

Weekly: `maritime-engine-model train` builds one row per vessel and UTC day from
Silver engine readings and maintenance events, labels it with "a maintenance event on
one of the next 7 days", trains a RandomForest pipeline on all but the last two weeks
and evaluates it on those two weeks (see `docs/ENGINE_MODEL.md`).

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
* **Schedule:** Mondays 03:00 UTC for the week that just ended: the last feature day is the
  Sunday (`--end`, exclusive, the Monday).
* **Rerun / backfill:** a rerun registers another version trained on the same days; on
  identical data it ties with the champion and does not move the alias. One retry only,
  so a failing run does not register a string of versions.
* **Emits:** Asset `maritime.model.maintenance` (the registered model);
  `engine_maintenance_scoring` reads the champion at its next run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param
from airflow.timetables.interval import CronDataIntervalTimetable

from maritimeiq.assets import MODEL_MAINTENANCE
from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator


@maritime_dag(
    schedule=CronDataIntervalTimetable("0 3 * * 1", timezone="UTC"),
    start_date=datetime(2026, 11, 2),
    doc_md=__doc__,
    tags=["ml", "maintenance", "spark"],
    # Overridable per run (UI "Trigger DAG w/ config", `airflow dags test -c`).
    params={
        "days": Param(182, type="integer", minimum=14),
        "horizon_days": Param(7, type="integer", minimum=1),
        "test_weeks": Param(2, type="integer", minimum=1),
    },
    retries=1,
    retry_delay=timedelta(minutes=10),
    execution_timeout=timedelta(hours=2),
)
def engine_model_retraining():
    LakeSparkSubmitOperator(
        task_id="train_maintenance_model",
        doc_md="Trains and registers a candidate on the weeks just ended; moves `champion` only if it wins.",
        job_module="maritime_jobs.engine_model",
        # The interval [Mon 03:00, next Mon 03:00) closes the week ending on the Sunday before its end:
        # the feature days are the `days` days up to that Sunday.
        job_args=[
            "train",
            "--start",
            "{{ macros.ds_add(data_interval_end | ds, -params.days) }}",
            "--end",
            "{{ data_interval_end | ds }}",
            "--horizon-days",
            "{{ params.horizon_days }}",
            "--test-weeks",
            "{{ params.test_weeks }}",
        ],
        mlflow_conn_id="mlflow_default",
        outlets=[MODEL_MAINTENANCE],
    )


engine_model_retraining()
