"""Bronze → Silver AIS promotion rate at 1 M and 10 M rows.

Usage: python bench/silver_throughput.py [--rows 1000000 10000000] [--json PATH]
Builds a synthetic Bronze table of simulator-like position events (2,000 vessels, one
fix every 10 s, ~1 % bad rows) with Spark, then times `transform` + `load` of the whole
slice into an empty Silver. Uses a temporary lake, removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta

from benchlib import write_json
from maritime_jobs.silver_ais import promote
from maritime_jobs.silver_common import extract
from maritimeiq import catalog
from maritimeiq.spark import get_spark

START = datetime(2026, 11, 1, tzinfo=UTC)
# Every fix (10 M rows = 5,000 fixes per vessel, 14 h) arrived before this hour ends.
INGESTED = START + timedelta(hours=20)


def build_bronze(spark, path: str, rows: int) -> None:
    from pyspark.sql import functions as F

    n = F.col("id")
    vessel = n % 2000
    fix = F.floor(n / 2000)
    lat = F.lit(54.0) + vessel / 1000.0 + fix * 0.0005
    payload = F.to_json(
        F.struct(
            F.lit("ais_position").alias("event_type"),
            F.lit(1).alias("schema_version"),
            F.lit("bench").alias("source"),
            F.date_format(F.lit(START) + F.make_interval(secs=fix * 10), "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").alias(
                "event_time"
            ),
            F.format_string("%09d", F.lit(219000000) + vessel).alias("mmsi"),
            F.lit(1).alias("msg_type"),
            F.lit("A").alias("ais_class"),
            F.when(n % 100 == 0, F.lit(95.0)).otherwise(lat).alias("latitude"),  # ~1 % out of range
            (F.lit(10.0) + vessel / 1000.0).alias("longitude"),
            F.lit(10.0).alias("sog_kn"),
            F.lit(90.0).alias("cog_deg"),
            F.lit(0).alias("nav_status"),
        )
    )
    ingest = F.lit(INGESTED + timedelta(minutes=30))
    (
        spark.range(rows)
        .select(
            F.lit(None).cast("binary").alias("key"),
            payload.cast("binary").alias("value"),
            F.lit(catalog.AIS_TOPIC).alias("topic"),
            (vessel % 12).cast("int").alias("partition"),
            n.alias("offset"),
            ingest.alias("kafka_timestamp"),
            ingest.alias("ingest_time"),
            F.to_date(ingest).alias("ingest_date"),
        )
        .write.format("delta")
        .partitionBy("ingest_date")
        .save(path)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--json", help="write the results as JSON to this file")
    args = parser.parse_args()
    spark = get_spark("silver-bench")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; shuffle partitions "
        f"{spark.conf.get('spark.sql.shuffle.partitions')}, driver memory {spark.conf.get('spark.driver.memory')}"
    )
    runs = []
    for rows in args.rows:
        work = tempfile.mkdtemp(prefix="silver-bench-")
        try:
            print(f"building {rows:,} Bronze rows", flush=True)
            bronze_path = catalog.BRONZE_AIS_DATA.path(work)
            build_bronze(spark, bronze_path, rows)
            print("promoting", flush=True)
            started = time.perf_counter()
            bronze = extract(spark, bronze_path, INGESTED, INGESTED + timedelta(hours=1))
            record = promote(spark, bronze, work, INGESTED)
            elapsed = time.perf_counter() - started
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(
            f"{rows:>11,} Bronze rows -> valid {record['valid']:,}, quarantined {record['quarantined']:,}, "
            f"duplicates {record['duplicates']:,} in {elapsed:,.0f} s = {rows / elapsed * 60:,.0f} rows/min",
            flush=True,
        )
        runs.append(
            {
                "rows": rows,
                "seconds": elapsed,
                "rows_per_min": rows / elapsed * 60,
                **{k: record[k] for k in ("valid", "quarantined", "duplicates")},
            }
        )
    write_json(args.json, {"runs": runs})


if __name__ == "__main__":
    main()
