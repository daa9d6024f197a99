"""OPTIMIZE beside a live Structured Streaming append into the same table: both commit,
and every row the stream produced is in the table exactly once."""

from __future__ import annotations

import time
from datetime import date

import pytest

from maritime_jobs.delta_maintenance import maintain
from maritimeiq.catalog import Table

pytestmark = pytest.mark.integration


def wait_for(condition, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the stream did not make progress in time")
        time.sleep(0.5)


def test_optimize_while_a_stream_appends(spark, tmp_path):
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    lake = tmp_path / "lake"
    table = str(lake / "bronze" / "rate")
    # `value` of the rate source counts 0, 1, 2, ... across micro-batches: a gap is a lost row.
    query = (
        spark.readStream.format("rate")
        .option("rowsPerSecond", 20)
        .load()
        .withColumn("mmsi", F.format_string("%09d", F.lit(219000000) + F.col("value") % 50))
        .withColumn("ingest_date", F.to_date("timestamp"))
        .coalesce(1)
        .writeStream.format("delta")
        .partitionBy("ingest_date")
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .trigger(processingTime="1 second")
        .start(table)
    )

    def versions() -> int:
        return (
            DeltaTable.forPath(spark, table).history(1).first()["version"]
            if DeltaTable.isDeltaTable(spark, table)
            else -1
        )

    key = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
    spark.conf.set(key, "2")  # VACUUM's listing: two tasks, not 10,000
    try:
        wait_for(lambda: versions() >= 4)
        rate = Table("bronze", "rate", partition_by=("ingest_date",))
        records = [maintain(spark, str(lake), rate, date.today()) for _ in range(2)]
        after_optimize = versions()
        wait_for(lambda: versions() >= after_optimize + 2)  # the stream keeps committing
        assert query.exception() is None
    finally:
        spark.conf.unset(key)
        query.stop()

    assert [r["status"] for r in records] == ["ok", "ok"], records
    # The stream kept adding files, so the table's file count proves nothing; OPTIMIZE's own metrics do.
    history = spark.sql(f"DESCRIBE HISTORY delta.`{table}`").collect()
    optimized = [r for r in history if r.operation == "OPTIMIZE"]
    assert optimized and int(optimized[-1].operationMetrics["numRemovedFiles"]) >= 2
    assert max(r.version for r in history if r.operation == "STREAMING UPDATE") > optimized[0].version

    produced = sum(p["numInputRows"] for p in query.recentProgress)
    stats = (
        spark.read.format("delta")
        .load(table)
        .agg(F.count("*").alias("rows"), F.count_distinct("value").alias("distinct"), F.max("value").alias("last"))
        .first()
    )
    assert stats.rows == stats.distinct == stats.last + 1  # no gap, no duplicate
    assert stats.rows >= produced > 0
