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


def test_airflow_dags_test_promotes_an_hour_of_bronze_to_silver(tmp_path, spark):
    import json
    from datetime import datetime, timedelta, timezone

    from pyspark.sql import functions as F

    from maritimeiq.events import make_event

    overrides = {
        "MARITIME__AIRFLOW__HOME": str(tmp_path / "airflow"),
        "MARITIME__LAKE__ROOT": str(tmp_path / "lake"),
        "MARITIME__SPARK__DRIVER_MEMORY": "1g",
    }
    config = load_config(environ=overrides)
    start = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
    rows = []
    for i in range(30):  # ten inside the hour per vessel, the rest outside the interval
        ingest = start + timedelta(minutes=-30 + 3 * i)
        event = make_event("ais_position", "test", ingest - timedelta(seconds=5), mmsi=f"{219000001 + i % 3:09d}",
                           msg_type=1, latitude=55.0, longitude=12.0 + i * 0.001, sog_kn=5.0)
        rows.append((None, bytearray(json.dumps(event).encode()), "maritime.ais.data", 0, i,
                     ingest.replace(tzinfo=None), ingest.replace(tzinfo=None)))
    expected = sum(1 for r in rows if start.replace(tzinfo=None) <= r[6] < (start + timedelta(hours=1)).replace(tzinfo=None))
    spark.createDataFrame(rows, "key binary, value binary, topic string, partition int, offset long, "
                                "kafka_timestamp timestamp, ingest_time timestamp") \
        .withColumn("ingest_date", F.to_date("ingest_time")) \
        .write.format("delta").partitionBy("ingest_date").save(config.lake.table_path("bronze", "maritime_ais_data"))

    env = airflow_env(config, base={**_plain_environment(), **overrides})
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    # A manual run covers the last complete hour before its date: [12:00, 13:00).
    run = subprocess.run([AIRFLOW, "dags", "test", "silver_promotion", "2026-11-01T13:00:00+00:00"],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "2026-11-01T12:00Z..2026-11-01T13:00Z" in run.stdout + run.stderr
    silver = spark.read.format("delta").load(config.lake.table_path("silver", "ais_positions"))
    assert silver.count() == expected == 20
    quality = spark.read.format("delta").load(config.lake.table_path("silver", "data_quality")).collect()
    assert [(q.rows_in, q.valid, q.quarantined, q.duplicates) for q in quality] == [(20, 20, 0, 0)]


def test_airflow_dags_test_computes_gold_daily_metrics(tmp_path, spark):
    from datetime import datetime, timedelta

    overrides = {
        "MARITIME__AIRFLOW__HOME": str(tmp_path / "airflow"),
        "MARITIME__LAKE__ROOT": str(tmp_path / "lake"),
        "MARITIME__SPARK__DRIVER_MEMORY": "1g",
    }
    config = load_config(environ=overrides)
    t0 = datetime(2026, 11, 1, 8, 0)
    rows = [(f"{219000001 + v:09d}", t0 + timedelta(minutes=10 * i), (t0 + timedelta(minutes=10 * i)).date(),
             55.0 + 0.01 * i, 12.0 + v, 6.0, 0, i) for v in range(3) for i in range(12)]
    spark.createDataFrame(rows, "mmsi string, event_time timestamp, event_date date, latitude double, "
                                "longitude double, sog_kn double, nav_status long, offset long") \
        .write.format("delta").partitionBy("event_date").save(config.lake.table_path("silver", "ais_positions"))

    env = airflow_env(config, base={**_plain_environment(), **overrides})
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    # A manual run covers the last complete day interval before its date: the one for 2026-11-01.
    run = subprocess.run([AIRFLOW, "dags", "test", "gold_daily_metrics", "2026-11-02T02:00:00+00:00"],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    gold = spark.read.format("delta").load(config.lake.table_path("gold", "vessel_daily_metrics")).collect()
    assert sorted((r.mmsi, str(r.event_date), r.positions) for r in gold) == [
        (f"{219000001 + v:09d}", "2026-11-01", 12) for v in range(3)]
    assert all(abs(r.hours_underway - 11 / 6) < 1e-9 and r.reporting_gaps_over_1h == 0 for r in gold)
