"""File skipping of a selective vessel query before and after OPTIMIZE ZORDER BY (mmsi, event_time).

Usage: python bench/zorder_skipping.py [--appends 40] [--rows-per-append 100000] [--vessels 2000]
                                       [--max-file-mib 2] [--json PATH]

A Silver-shaped positions table (partitioned by event_date) grows by many small appends,
one per hour of fixes from every vessel, as hourly promotions leave it: each file holds
every MMSI, so min/max statistics cannot skip any. A query for one MMSI then reads every
file. `maritime_jobs.delta_maintenance.optimize` (the maintenance DAG's call) rewrites it
Z-ordered; the same query reads only the files whose MMSI range covers the vessel.

Files read = the scan's "number of files read" metric (`numFiles` of FileSourceScanExec),
i.e. the files left after partition pruning and Delta's min/max data skipping; files with
matches = distinct `input_file_name()` of the returned rows. OPTIMIZE writes files up to
`spark.databricks.delta.optimize.maxFileSize` (1 GiB by default); a small table would
become one file per partition, so `--max-file-mib` scales the file size down to model a
table whose partitions hold many full-size files. Uses a temporary lake, removed afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime

from benchlib import write_json
from maritime_jobs.delta_maintenance import optimize
from maritimeiq import catalog
from maritimeiq.spark import get_spark

START = datetime(2026, 11, 1, tzinfo=UTC)
# The catalog's positions table, optimized whole: every appended hour is in the window.
POSITIONS = replace(catalog.SILVER_AIS_POSITIONS, recent_days=None)


def append_hour(spark, path: str, hour: int, rows: int, vessels: int) -> None:
    """One hour of fixes from every vessel, evenly spaced, appended like an hourly promotion."""
    from pyspark.sql import functions as F

    n = F.col("id")
    vessel, fix = n % vessels, F.floor(n / vessels)
    spacing_s = 3600.0 * vessels / rows
    event_time = F.timestamp_seconds(F.lit(START.timestamp() + hour * 3600) + fix * spacing_s)
    (
        spark.range(rows)
        .select(
            F.format_string("%09d", F.lit(219000000) + vessel).alias("mmsi"),
            event_time.alias("event_time"),
            F.to_date(event_time).alias("event_date"),
            F.lit(1).alias("msg_type"),
            F.lit("ship").alias("mmsi_class"),
            (F.lit(54.0) + vessel / 1000.0 + (hour * 3600 + fix * spacing_s) * 1e-6).alias("latitude"),
            (F.lit(10.0) + vessel / 1000.0).alias("longitude"),
            F.lit(12.0).alias("sog_kn"),
            F.lit(90.0).alias("cog_deg"),
            F.lit(0).alias("nav_status"),
            F.lit("bench").alias("source"),
            (vessel % 12).cast("int").alias("partition"),
            (F.lit(hour * rows) + n).alias("offset"),
            (event_time + F.expr("INTERVAL 2 MINUTES")).alias("ingest_time"),
        )
        .write.format("delta")
        .mode("append")
        .partitionBy("event_date")
        .save(path)
    )


def files_read(frame) -> int:
    """Files the executed scans read (after `frame` ran an action)."""

    def walk(node) -> int:
        kind = node.getClass().getSimpleName()
        if kind == "AdaptiveSparkPlanExec":
            return walk(node.executedPlan())
        if kind.endswith("QueryStageExec"):
            return walk(node.plan())
        metrics = node.metrics()
        own = metrics.apply("numFiles").value() if kind == "FileSourceScanExec" and metrics.contains("numFiles") else 0
        children = node.children()
        return own + sum(walk(children.apply(i)) for i in range(children.size()))

    return walk(frame._jdf.queryExecution().executedPlan())


def vessel_query(spark, path: str, mmsi: str) -> dict:
    from pyspark.sql import functions as F

    frame = (
        spark.read.format("delta")
        .load(path)
        .where(F.col("mmsi") == mmsi)
        .select("event_time", "latitude", "longitude", F.input_file_name().alias("file"))
    )
    started = time.perf_counter()
    rows = frame.collect()
    return {
        "rows": len(rows),
        "files_read": files_read(frame),
        "files_with_matches": len({r.file for r in rows}),
        "seconds": time.perf_counter() - started,
    }


def table_files(spark, path: str) -> int:
    from delta.tables import DeltaTable

    return DeltaTable.forPath(spark, path).detail().first()["numFiles"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=40)
    parser.add_argument("--rows-per-append", type=int, default=100_000)
    parser.add_argument("--vessels", type=int, default=2_000)
    parser.add_argument("--max-file-mib", type=float, default=2.0, help="OPTIMIZE's largest output file")
    parser.add_argument("--json", help="write the results as JSON to this file")
    args = parser.parse_args()
    spark = get_spark("zorder-bench")
    spark.conf.set("spark.databricks.delta.optimize.maxFileSize", str(int(args.max_file_mib * 1024 * 1024)))
    work = tempfile.mkdtemp(prefix="zorder-bench-")
    path = POSITIONS.path(work)
    target = f"{219000000 + args.vessels // 2:09d}"
    try:
        for hour in range(args.appends):
            append_hour(spark, path, hour, args.rows_per_append, args.vessels)
            if (hour + 1) % 10 == 0 or hour + 1 == args.appends:
                print(f"appended {hour + 1} of {args.appends} hours", flush=True)
        files_before = table_files(spark, path)
        before = vessel_query(spark, path, target)
        print(
            f"before OPTIMIZE: {files_before} files; mmsi = {target}: {before['rows']} rows, read "
            f"{before['files_read']} files ({before['files_with_matches']} with matches) "
            f"in {before['seconds']:.1f} s",
            flush=True,
        )
        from delta.tables import DeltaTable

        started = time.perf_counter()
        optimize(DeltaTable.forPath(spark, path), POSITIONS, date(2026, 11, 2))
        optimize_seconds = time.perf_counter() - started
        files_after = table_files(spark, path)
        after = vessel_query(spark, path, target)
        print(
            f"OPTIMIZE ZORDER BY (mmsi, event_time) in {optimize_seconds:.1f} s: {files_after} files; "
            f"mmsi = {target}: {after['rows']} rows, read {after['files_read']} files "
            f"({after['files_with_matches']} with matches) in {after['seconds']:.1f} s",
            flush=True,
        )
        if after["rows"] != before["rows"]:
            raise RuntimeError(f"OPTIMIZE changed the query's result: {before['rows']} rows, then {after['rows']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_json(
        args.json,
        {
            "rows": args.appends * args.rows_per_append,
            "appends": args.appends,
            "vessels": args.vessels,
            "max_file_mib": args.max_file_mib,
            "mmsi": target,
            "files_before": files_before,
            "files_after": files_after,
            "files_read_before": before["files_read"],
            "files_read_after": after["files_read"],
            "files_with_matches_before": before["files_with_matches"],
            "files_with_matches_after": after["files_with_matches"],
            "query_seconds_before": before["seconds"],
            "query_seconds_after": after["seconds"],
            "optimize_seconds": optimize_seconds,
        },
    )


if __name__ == "__main__":
    main()
