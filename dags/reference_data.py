"""
### Reference data

Loads the ports reference table (UN/LOCODE, name, country, position) that the fleet
simulator and port-call detection use into the Delta table `reference/ports`.

* **Source:** the ports table shipped in `maritimeiq.reference` (versioned with code).
* **Target:** `<lake root>/reference/ports`, replaced whole each run; Delta history
  keeps earlier versions. Invalid rows fail the task with the offending UN/LOCODEs.
* **Rerun/backfill:** safe, the output depends only on the shipped file.
* **Emits:** Asset `maritime.reference.ports`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag

from maritimeiq.assets import REFERENCE_PORTS
from maritimeiq.dag_defaults import default_args
from maritimeiq.operators import LakeSparkSubmitOperator


@dag(
    schedule="@weekly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["maritime", "reference", "spark"],
    default_args=default_args(retries=2, retry_delay=timedelta(minutes=2), execution_timeout=timedelta(minutes=20)),
)
def reference_data():
    LakeSparkSubmitOperator(
        task_id="load_ports",
        job_module="maritime_jobs.reference_ports",
        outlets=[REFERENCE_PORTS],
    )


reference_data()
