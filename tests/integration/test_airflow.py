"""Airflow against the platform's DAGs: `airflow dags test` in an isolated home."""

from __future__ import annotations

import csv
import subprocess
from datetime import UTC

import pytest

from maritime_jobs.reference_ports import default_ports_csv
from maritimeiq import catalog
from tests.integration.conftest import AIRFLOW

pytestmark = pytest.mark.integration


def test_airflow_dags_test_runs_the_reference_pipeline(airflow_home, spark):
    config, env = airflow_home
    run = subprocess.run(
        [AIRFLOW, "dags", "test", "reference_data", "2026-11-01"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "ports written to" in output

    with open(default_ports_csv(), newline="") as handle:
        shipped = {row["unlocode"] for row in csv.DictReader(handle)}
    table = spark.read.format("delta").load(catalog.REFERENCE_PORTS.path(config.lake.root))
    assert {r.unlocode for r in table.select("unlocode").collect()} == shipped
    assert table.count() == len(shipped)


def test_airflow_dags_test_runs_silver_then_gold_on_simulated_fleet(airflow_home, spark):
    """One hour of every topic in Bronze → `dags test silver_promotion` → `dags test
    gold_daily_metrics`; counts checked against the Bronze rows themselves."""
    import json
    from collections import Counter
    from datetime import datetime, timedelta

    from pyspark.sql import functions as F

    from maritime_streaming.simulator import FleetSimulator, RawRecord
    from maritimeiq.events import TOPIC_OF

    config, env = airflow_home
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    simulator = FleetSimulator(vessels=12, hours=1.0, seed=11, start=start, bad_rate=0.03, sensor_interval_min=10)
    per_topic: dict[str, list] = {}
    for item in simulator.events():
        if isinstance(item, RawRecord):
            topic, value = item.topic, item.value
        else:
            topic, value = TOPIC_OF[item["event_type"]], json.dumps(item).encode()
        per_topic.setdefault(topic, []).append(value)
    # The Bronze worker's layout; everything arrived inside [12:00, 13:00).
    for topic, values in per_topic.items():
        rows = [
            (
                None,
                bytearray(v),
                topic,
                0,
                i,
                start.replace(tzinfo=None),
                (start + timedelta(seconds=i * 3599 // len(values))).replace(tzinfo=None),
            )
            for i, v in enumerate(values)
        ]
        spark.createDataFrame(
            rows,
            "key binary, value binary, topic string, partition int, offset long, "
            "kafka_timestamp timestamp, ingest_time timestamp",
        ).withColumn("ingest_date", F.to_date("ingest_time")).write.format("delta").partitionBy("ingest_date").save(
            catalog.bronze_table(topic).path(config.lake.root)
        )

    # A manual run covers the last complete hour before its date: [12:00, 13:00).
    run = subprocess.run(
        [AIRFLOW, "dags", "test", "silver_promotion", "2026-11-01T13:00:00+00:00"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    quality = spark.read.format("delta").load(catalog.SILVER_DATA_QUALITY.path(config.lake.root)).collect()
    topic_of_stream = {
        "ais_positions": "maritime.ais.data",
        "vessel_static_reports": "maritime.ais.data",
        "ais_other": "maritime.ais.data",
        "environmental_readings": "maritime.environmental.sensors",
        "maintenance_events": "maritime.environmental.sensors",
        "voyage_events": "maritime.voyage.events",
        "fuel_reports": "maritime.voyage.events",
    }
    rows_in = Counter()
    for q in quality:
        assert q.valid + q.quarantined + q.duplicates == q.rows_in, q
        rows_in[topic_of_stream[q.stream]] += q.rows_in
    assert rows_in == Counter({topic: len(values) for topic, values in per_topic.items()})
    positions = {q.stream: q for q in quality}["ais_positions"]
    assert positions.quarantined > 0 and positions.valid > 0
    silver = spark.read.format("delta").load(catalog.SILVER_AIS_POSITIONS.path(config.lake.root))
    assert silver.count() == positions.valid
    current = spark.read.format("delta").load(catalog.SILVER_VESSEL_STATIC.path(config.lake.root)).where("is_current")
    assert current.select("mmsi").distinct().count() == current.count() == len(simulator.fleet)

    run = subprocess.run(
        [AIRFLOW, "dags", "test", "gold_daily_metrics", "2026-11-02T02:00:00+00:00"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    gold = spark.read.format("delta").load(catalog.GOLD_VESSEL_DAILY_METRICS.path(config.lake.root))
    per_vessel = {
        r.mmsi: r.n
        for r in silver.where("event_date = DATE'2026-11-01'").groupBy("mmsi").agg(F.count("*").alias("n")).collect()
    }
    assert {r.mmsi: r.positions for r in gold.collect()} == per_vessel
    kpis = spark.read.format("delta").load(catalog.GOLD_FLEET_DAILY_KPIS.path(config.lake.root)).collect()
    assert sum(k.active_vessels for k in kpis) == len(per_vessel)
    assert sum(k.positions for k in kpis) == sum(per_vessel.values())
    # Every table the DAGs wrote is one the catalog describes (so maintenance and Assets cover it).
    assert catalog.unknown_tables(config.lake.root) == []
