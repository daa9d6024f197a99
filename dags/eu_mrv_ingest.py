"""
### EU MRV ingest

Loads the EMSA THETIS-MRV "Publication of information" workbooks (verified annual CO2
and fuel per ship calling at EU ports, Regulation (EU) 2015/757) exactly as published.
Details, rules and numbers: `docs/EU_MRV.md`.

* **Input:** the workbooks named by the param `workbooks` (paths or glob patterns;
  relative ones under the project root), default `var/landing/eu_mrv/*.xlsx`.
* **Output:** `<lake>/silver/eu_mrv_reports` (one row per IMO number and reporting
  period, with derived distance and implied CO2 factor), `<lake>/silver/eu_mrv_quarantine`
  (unusable rows and why), `<lake>/gold/eu_mrv_ship_type_year`. Each run replaces exactly
  the reporting periods found in its workbooks (`replaceWhere`).
* **Schedule:** yearly on 1 July: EMSA publishes each period's reports by 30 June of the
  following year (Regulation (EU) 2015/757 Art. 21); revised versions follow, so rerun
  when a new version of a workbook lands.
* **Rerun / backfill:** safe, the same workbooks give identical tables:
  `airflow dags trigger eu_mrv_ingest -c '{"workbooks": ["/data/emsa/2020-*.xlsx"]}'` or
  `maritime-eu-mrv-ingest /data/emsa/*.xlsx` (`--dry-run` prints the parsed rows, writes nothing).
* **Emits:** Assets `maritime.silver.eu_mrv_reports`, `maritime.gold.eu_mrv_ship_type_year`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param

from maritimeiq.assets import GOLD_EU_MRV_SHIP_TYPE_YEAR, SILVER_EU_MRV_REPORTS
from maritimeiq.dag_factory import maritime_dag
from maritimeiq.operators import LakeSparkSubmitOperator


@maritime_dag(
    schedule="0 6 1 7 *",
    start_date=datetime(2026, 1, 1),
    doc_md=__doc__,
    tags=["silver", "gold", "emissions", "eu-mrv", "spark"],
    params={
        "workbooks": Param(
            ["var/landing/eu_mrv/*.xlsx"],
            type="array",
            items={"type": "string"},
            minItems=1,
            description="EMSA MRV workbooks: paths or glob patterns",
        )
    },
    retry_delay=timedelta(minutes=2),
    execution_timeout=timedelta(hours=1),
)
def eu_mrv_ingest():
    LakeSparkSubmitOperator(
        task_id="ingest_workbooks",
        doc_md="Parses the workbooks and replaces their reporting periods in Silver and Gold.",
        job_module="maritime_jobs.eu_mrv_ingest",
        job_args=["--workbooks-json", "{{ params.workbooks | tojson }}"],
        outlets=[SILVER_EU_MRV_REPORTS, GOLD_EU_MRV_SHIP_TYPE_YEAR],
    )


eu_mrv_ingest()
