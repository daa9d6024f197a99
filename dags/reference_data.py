"""
### Reference data

Loads the ports reference table (UN/LOCODE, name, country, position) that the fleet
simulator and port-call detection use into the Delta table `reference/ports`.

* **Source:** the ports table shipped in `maritimeiq.reference` (versioned with code).
* **Target:** `<lake root>/reference/ports`, replaced whole each run; Delta history
  keeps earlier versions. Invalid rows fail the task with the offending UN/LOCODEs.
* **Rerun/backfill:** safe, the output depends only on the shipped file:
  `airflow dags trigger reference_data`.
* **Emits:** Asset `maritime.reference.ports`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from maritimeiq.assets import REFERENCE_PORTS
from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator


@maritime_dag(
    schedule="@weekly",
    start_date=datetime(2026, 1, 1),
    doc_md=__doc__,
    tags=["reference", "spark"],
    retries=2,
    retry_delay=timedelta(minutes=2),
    execution_timeout=timedelta(minutes=20),
)
def reference_data():
    LakeSparkSubmitOperator(
        task_id="load_ports",
        doc_md="Validates the shipped ports table and replaces `reference/ports`.",
        job_module="maritime_jobs.reference_ports",
        outlets=[REFERENCE_PORTS],
    )


reference_data()
