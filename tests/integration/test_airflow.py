"""Airflow against the platform's DAGs: `airflow dags test` in an isolated home."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from maritime_jobs.reference_ports import default_ports_csv
from maritimeiq.config import load_config
from maritimeiq.stack.airflow import airflow_env

pytestmark = pytest.mark.integration
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def test_airflow_dags_test_runs_the_reference_pipeline(tmp_path, spark):
    overrides = {
        "MARITIME__AIRFLOW__HOME": str(tmp_path / "airflow"),
        "MARITIME__LAKE__ROOT": str(tmp_path / "lake"),
        "MARITIME__SPARK__DRIVER_MEMORY": "1g",
    }
    config = load_config(environ=overrides)
    env = airflow_env(config, base={**_plain_environment(), **overrides})

    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    run = subprocess.run(
        [AIRFLOW, "dags", "test", "reference_data", "2026-11-01"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "ports written to" in output

    with open(default_ports_csv(), newline="") as handle:
        shipped = {row["unlocode"] for row in csv.DictReader(handle)}
    table = spark.read.format("delta").load(config.lake.table_path("reference", "ports"))
    assert {r.unlocode for r in table.select("unlocode").collect()} == shipped
    assert table.count() == len(shipped)


def _plain_environment() -> dict[str, str]:
    """This process's environment without the test session's Airflow settings."""
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
