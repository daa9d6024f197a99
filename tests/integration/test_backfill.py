"""Three simulated days through Silver and Gold, then the same days again as a backfill
over the populated lake: every table's sorted contents hash the same."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from maritime_jobs import gold_fleet_daily, gold_vessel_daily
from maritime_jobs.silver_ais import promote
from maritime_jobs.silver_common import extract
from maritime_jobs.silver_streams import STREAMS
from maritime_jobs.silver_streams import promote as promote_stream
from maritime_streaming.simulator import FleetSimulator, RawRecord
from maritimeiq import catalog
from maritimeiq.events import TOPIC_OF

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = [START + timedelta(days=d) for d in range(3)]
TABLES = (
    "silver/ais_positions",
    "silver/ais_positions_quarantine",
    "silver/vessel_static",
    "silver/vessel_static_reports",
    "silver/environmental_readings",
    "silver/environmental_readings_quarantine",
    "silver/maintenance_events",
    "silver/data_quality",
    "gold/vessel_daily_metrics",
    "gold/fleet_daily_kpis",
)


def digest(spark, path):
    rows = sorted(
        json.dumps(r.asDict(recursive=True), default=str, sort_keys=True)
        for r in spark.read.format("delta").load(path).collect()
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest(), len(rows)


def test_three_day_backfill_reproduces_the_clean_run(spark, tmp_path):
    lake = str(tmp_path / "lake")
    simulator = FleetSimulator(
        vessels=8, hours=72, seed=5, start=START, bad_rate=0.02, interval_scale=20, sensor_interval_min=60
    )
    per_topic: dict[str, list] = {}
    for item in simulator.events():
        if isinstance(item, RawRecord):
            topic, value, when = item.topic, item.value, item.event_time
        else:
            topic, value = TOPIC_OF[item["event_type"]], json.dumps(item).encode()
            when = datetime.fromisoformat(item["event_time"].replace("Z", "+00:00"))
        per_topic.setdefault(topic, []).append((value, when))
    in_range = 0
    for topic in ("maritime.ais.data", "maritime.environmental.sensors"):
        records = per_topic[topic]
        # Arrival a few seconds after the event, in production order (late records too).
        rows, arrived = [], START
        for offset, (value, when) in enumerate(records):
            arrived = max(arrived, when + timedelta(seconds=5))
            rows.append(
                (None, bytearray(value), topic, 0, offset, arrived.replace(tzinfo=None), arrived.replace(tzinfo=None))
            )
            in_range += arrived < DAYS[-1] + timedelta(days=1)
        spark.createDataFrame(
            rows,
            "key binary, value binary, topic string, partition int, offset long, "
            "kafka_timestamp timestamp, ingest_time timestamp",
        ).withColumn("ingest_date", F.to_date("ingest_time")).write.format("delta").partitionBy("ingest_date").save(
            f"{lake}/bronze/{topic.replace('.', '_')}"
        )

    def run_days():
        records = []
        for day in DAYS:
            end = day + timedelta(days=1)
            # Every stream shares the same load; these three cover both topics beside AIS
            # and the static-data history.
            for name in ("vessel_static_reports", "environmental_readings", "maintenance_events"):
                stream = STREAMS[name]
                bronze = extract(spark, f"{lake}/bronze/{stream.topic.replace('.', '_')}", day, end)
                records.append(promote_stream(spark, bronze, lake, day, stream))
            records.append(promote(spark, extract(spark, f"{lake}/bronze/maritime_ais_data", day, end), lake, day))
        for day in DAYS:
            gold_vessel_daily.run(spark, lake, day.date(), day.date() + timedelta(days=1))
            gold_fleet_daily.run(spark, lake, day.date())
        return records

    clean = run_days()
    clean_tables = {t: digest(spark, f"{lake}/{t}") for t in TABLES}
    assert run_days() == clean
    assert {t: digest(spark, f"{lake}/{t}") for t in TABLES} == clean_tables
    assert catalog.unknown_tables(lake) == [], "the jobs wrote a table the catalog does not describe"

    # Every Bronze row is accounted for once: Silver + quarantined + duplicates.
    for record in clean:
        assert record["valid"] + record["quarantined"] + record["duplicates"] == record["rows_in"], record
    assert sum(r["rows_in"] for r in clean) == in_range
    positions = [r for r in clean if r["stream"] == "ais_positions"]
    assert sum(r["valid"] for r in positions) == clean_tables["silver/ais_positions"][1]
    assert {
        str(r.event_date)
        for r in spark.read.format("delta")
        .load(f"{lake}/gold/vessel_daily_metrics")
        .select("event_date")
        .distinct()
        .collect()
    } == {str(d.date()) for d in DAYS}
    assert date(2026, 11, 1) in {
        r.event_date for r in spark.read.format("delta").load(f"{lake}/gold/fleet_daily_kpis").collect()
    }
