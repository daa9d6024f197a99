"""Emissions and CII rate: `maritime_jobs.emissions_compliance` over synthetic Silver and Gold inputs.

Usage: python bench/emissions_throughput.py [--rows 10000000] [--json PATH]

Writes, with Spark, a temporary lake holding `--rows` Silver AIS positions of
rows / 5,000 vessels (one fix every 5 minutes from 2026-03-01, so 5,000 fixes span about
17 days; a day in port every fourth day), their vessel_static rows (the simulator's ship
types, sizes and fuels), daily fuel reports from every second vessel (the others take the
AIS estimate) and Gold vessel_daily_metrics distances. Then times
its `run` for reporting year 2026: reading and counting the inputs, CO2 per day,
CII ratings and trajectory written to Gold, and the Markdown/CSV/PNG report. The rate is
input records (positions + fuel reports + static + daily rows) per minute of that run.
The lake is removed afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchlib import write_json
from maritime_jobs.emissions_compliance.__main__ import run
from maritime_streaming.simulator import MERCHANT_TYPES
from maritimeiq import catalog
from maritimeiq.spark import get_spark

START = datetime(2026, 3, 1, tzinfo=UTC)
FIX_SECONDS = 300
FIXES_PER_VESSEL = 5_000
YEAR = 2026


def build_inputs(spark, lake: str, rows: int, vessels: int) -> None:
    from pyspark.sql import functions as F

    n = F.col("id")
    vessel, fix = n % vessels, F.floor(n / vessels)
    mmsi = F.format_string("%09d", F.lit(219000000) + vessel)
    event_time = F.timestamp_seconds(F.lit(START.timestamp()) + fix * FIX_SECONDS)
    in_port = F.floor(fix * FIX_SECONDS / 86400) % 4 == 3
    sog = F.when(in_port, F.lit(0.0)).otherwise(F.lit(11.0) + vessel % 6)
    (
        spark.range(rows)
        .select(
            mmsi.alias("mmsi"),
            event_time.alias("event_time"),
            F.to_date(event_time).alias("event_date"),
            F.lit(1).alias("msg_type"),
            F.lit("A").alias("ais_class"),
            F.lit("ship").alias("mmsi_class"),
            (F.lit(54.0) + vessel / 1000.0 + fix * 1e-4).alias("latitude"),
            (F.lit(10.0) + vessel / 1000.0).alias("longitude"),
            sog.alias("sog_kn"),
            F.lit(90.0).alias("cog_deg"),
            F.lit(90).alias("heading_deg"),
            F.lit(None).cast("double").alias("rot_deg_min"),
            F.when(in_port, F.lit(5)).otherwise(F.lit(0)).alias("nav_status"),  # ITU-R M.1371: 5 moored, 0 under way
            F.lit(True).alias("position_accuracy"),
            (fix * FIX_SECONDS % 60).cast("int").alias("utc_second"),
            F.lit(None).cast("string").alias("station"),
            F.lit("bench").alias("source"),
            (vessel % 12).cast("int").alias("partition"),
            n.alias("offset"),
            (event_time + F.expr("INTERVAL 2 MINUTES")).alias("ingest_time"),
        )
        .write.format("delta")
        .partitionBy("event_date")
        .save(catalog.SILVER_AIS_POSITIONS.path(lake))
    )

    types = [
        (i, name, float(dwt[0]), float(dwt[1]), speed[0], admiralty)
        for i, (name, _, dwt, speed, admiralty, _) in enumerate(MERCHANT_TYPES)
    ]
    kinds = spark.createDataFrame(
        types, "kind int, ship_category string, dwt_low double, dwt_high double, speed_kn double, admiralty double"
    )
    dwt = F.col("dwt_low") + (F.col("dwt_high") - F.col("dwt_low")) * (F.col("id") % 10) / 10.0
    fuel = (
        F.when(F.col("ship_category") == "lng_carrier", F.lit("LNG"))
        .when(F.col("ship_category") == "ro_ro_passenger", F.lit("MGO"))
        .otherwise(F.lit("HFO"))
    )
    gt_per_dwt = F.when(F.col("ship_category").isin("container_ship", "ro_ro_passenger"), 0.9).otherwise(0.55)
    static = (
        spark.range(vessels)
        .withColumn("kind", (F.col("id") % len(types)).cast("int"))
        .join(kinds, "kind")
        .select(
            F.format_string("%09d", F.lit(219000000) + F.col("id")).alias("mmsi"),
            (F.lit(9000000) + F.col("id")).cast("int").alias("imo"),
            F.lit("BNCH").alias("call_sign"),
            F.concat(F.lit("BENCH "), F.col("id")).alias("name"),
            F.lit(70).alias("ship_type"),
            F.lit(180.0).alias("length_m"),
            F.lit(30.0).alias("beam_m"),
            F.lit(10.0).alias("draught_m"),
            F.lit(None).cast("string").alias("destination"),
            F.lit("A").alias("ais_class"),
            "ship_category",
            dwt.alias("dwt_t"),
            (dwt * gt_per_dwt).alias("gt"),
            F.col("speed_kn").alias("service_speed_kn"),
            # Admiralty formula as the simulator sizes engines: P = (1.3 DWT)^(2/3) V^3 / C at 85 % MCR.
            (F.pow(dwt * 1.3, 2 / 3) * F.pow("speed_kn", 3) / F.col("admiralty") / 0.85).alias("mcr_kw"),
            fuel.alias("fuel_type"),
            F.lit(datetime(2025, 1, 1)).cast("timestamp").alias("valid_from"),
            F.lit(None).cast("timestamp").alias("valid_to"),
            F.lit(True).alias("is_current"),
        )
    )
    static.write.format("delta").save(catalog.SILVER_VESSEL_STATIC.path(lake))

    positions = spark.read.format("delta").load(catalog.SILVER_AIS_POSITIONS.path(lake))
    daily = positions.groupBy("mmsi", "event_date").agg(
        F.count("*").alias("positions"), F.sum(F.col("sog_kn") * FIX_SECONDS / 3600.0).alias("distance_nm")
    )
    daily.write.format("delta").partitionBy("event_date").save(catalog.GOLD_VESSEL_DAILY_METRICS.path(lake))
    reporters = static.where(F.substring("mmsi", 9, 1).cast("int") % 2 == 0).select("mmsi", "fuel_type")
    (
        daily.join(reporters, "mmsi")
        .select(
            "mmsi",
            F.to_timestamp(F.date_add("event_date", 1)).alias("event_time"),
            F.col("event_date").alias("report_date"),
            "fuel_type",
            (F.col("distance_nm") * 0.12).alias("fuel_consumed_t"),
            "distance_nm",
            (F.col("positions") * FIX_SECONDS / 3600.0).alias("hours_underway"),
            F.lit("bench").alias("source"),
            F.lit(0).alias("partition"),
            F.monotonically_increasing_id().alias("offset"),
            F.to_timestamp(F.date_add("event_date", 1)).alias("ingest_time"),
        )
        .write.format("delta")
        .partitionBy("report_date")
        .save(catalog.SILVER_FUEL_REPORTS.path(lake))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="Silver AIS positions")
    parser.add_argument("--json", help="write the results as JSON to this file")
    args = parser.parse_args()
    vessels = max(1, args.rows // FIXES_PER_VESSEL)
    spark = get_spark("emissions-bench")
    work = Path(tempfile.mkdtemp(prefix="emissions-bench-"))
    lake = str(work / "lake")
    try:
        print(
            f"building {args.rows:,} positions of {vessels:,} vessels, static, fuel reports, daily metrics", flush=True
        )
        build_inputs(spark, lake, args.rows, vessels)
        print("running maritime_jobs.emissions_compliance", flush=True)
        started = time.perf_counter()
        summary = run(spark, lake, YEAR, work / "reports")
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    records = summary["records_loaded"]
    print(
        f"{records:,} input records ({args.rows:,} positions), {summary['vessels_rated']:,} vessels rated, "
        f"in {seconds:,.0f} s = {records / seconds * 60:,.0f} records/min",
        flush=True,
    )
    write_json(
        args.json,
        {
            "positions": args.rows,
            "vessels": vessels,
            "records": records,
            "seconds": seconds,
            "records_per_min": records / seconds * 60,
            "vessels_rated": summary["vessels_rated"],
            "ratings": summary["ratings"],
            "estimated_share": summary["estimated_share"],
        },
    )


if __name__ == "__main__":
    main()
