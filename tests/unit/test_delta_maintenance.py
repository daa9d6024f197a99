from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from maritime_jobs.delta_maintenance import (DEFAULT_CONFIG, RetentionTooShortError, TableSpec, config_path,
                                             load_specs, run, settings)

SUNDAY, MONDAY = date(2026, 11, 29), date(2026, 11, 30)
POSITIONS = "mmsi string, event_time timestamp, event_date date, latitude double"


def test_committed_config_loads_and_respects_the_minimum():
    specs = {spec.table: spec for spec in load_specs(DEFAULT_CONFIG)}
    assert specs["silver/ais_positions"].zorder_by == ("mmsi", "event_time")
    assert specs["gold/vessel_daily_metrics"].zorder_by == ("mmsi",)
    assert specs["bronze/maritime_ais_data"].zorder_by == ()
    assert min(spec.vacuum_retention_hours for spec in specs.values()) >= 168


def test_config_retention_below_the_minimum_is_refused(tmp_path):
    config = tmp_path / "maintenance.yaml"
    config.write_text("tables:\n  silver/ais_positions: {vacuum_retention_hours: 24}\n")
    with pytest.raises(RetentionTooShortError, match=r"silver/ais_positions.*minimum is 168 hours"):
        load_specs(config)
    assert config_path({"MARITIME_MAINTENANCE_CONFIG": str(config)}) == config


def test_weekly_tables_run_on_sundays_only():
    daily, weekly = TableSpec("silver/a"), TableSpec("gold/b", cadence="weekly")
    assert [daily.is_due(d) for d in (SUNDAY, MONDAY)] == [True, True]
    assert [weekly.is_due(d) for d in (SUNDAY, MONDAY)] == [True, False]
    assert TableSpec("silver/a", partition_column="event_date", recent_days=3).optimize_filter(MONDAY) == (
        "event_date >= DATE'2026-11-27'")


@pytest.fixture
def narrow_listing(spark):
    """VACUUM lists files with `parallelPartitionDiscovery.parallelism` tasks (10,000 by
    default): two are plenty for a test table."""
    key = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
    spark.conf.set(key, "2")
    yield
    spark.conf.unset(key)


def data_files(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*.parquet") if "_delta_log" not in p.parts}


def test_vacuum_below_168_hours_refused_before_anything_is_touched(spark, tmp_path, narrow_listing):
    lake = tmp_path / "lake"
    table = lake / "silver" / "tiny"
    for value in (1.0, 2.0):  # the overwrite leaves the first file unreferenced
        spark.createDataFrame([("219000001", datetime(2026, 11, 1), date(2026, 11, 1), value)], POSITIONS) \
            .coalesce(1).write.format("delta").mode("overwrite").save(str(table))
    config = tmp_path / "maintenance.yaml"
    config.write_text("tables:\n  silver/tiny: {}\n")
    files = data_files(table)
    args = ["--date", MONDAY.isoformat(), "--config", str(config), "--lake-root", str(lake)]

    with pytest.raises(RetentionTooShortError, match=r"silver/tiny.*minimum is 168 hours"):
        settings([*args, "--vacuum-retention-hours", "167.9"])
    assert data_files(table) == files and len(files) == 2

    parsed, specs = settings([*args, "--vacuum-retention-hours", "168"])
    run(spark, parsed.lake_root, specs, parsed.date, parsed.log_table)
    operations = [r.operation for r in spark.sql(f"DESCRIBE HISTORY delta.`{table}`").collect()]
    assert "VACUUM END" in operations
    assert data_files(table) == files  # both files are younger than the retention
    (logged,) = spark.read.format("delta").load(str(lake / "ops" / "maintenance_log")).collect()
    assert (logged.table_name, logged.status, logged.files_before) == ("silver/tiny", "ok", 1)


def candidate_files(spark, table: str, mmsi: str) -> int:
    """Active files whose min/max statistics admit `mmsi`: the files data skipping must read."""
    from pyspark.sql import functions as F

    commits = spark.read.json(f"{table}/_delta_log/*.json")
    added = commits.where("add IS NOT NULL").select("add.path", "add.stats")
    if "remove" in commits.columns:
        added = added.join(commits.where("remove IS NOT NULL").select("remove.path"), "path", "left_anti")
    stats = F.from_json("stats", "minValues struct<mmsi string>, maxValues struct<mmsi string>")
    active = added.select(stats.alias("s"))
    return active.where((F.col("s.minValues.mmsi") <= mmsi) & (F.col("s.maxValues.mmsi") >= mmsi)).count()


def test_zorder_lets_a_vessel_query_skip_most_files(spark, tmp_path, narrow_listing):
    lake = tmp_path / "lake"
    table = str(lake / "silver" / "positions")
    rng = random.Random(7)
    mmsis = [f"2190{i:05d}" for i in range(100)]
    t0 = datetime(2026, 11, 29, 0, 0)
    for batch in range(40):
        rows = [(rng.choice(mmsis), t0 + timedelta(seconds=batch * 200 + i), SUNDAY, rng.uniform(54, 58))
                for i in range(200)]
        spark.createDataFrame(rows, POSITIONS).coalesce(1).write.format("delta").mode("append") \
            .partitionBy("event_date").save(table)
    target = mmsis[42]

    def selection():
        return spark.read.format("delta").load(table).where(f"mmsi = '{target}'").collect()

    before_rows, before_files = selection(), candidate_files(spark, table, target)
    spec = TableSpec("silver/positions", partition_column="event_date", zorder_by=("mmsi",))
    missing = TableSpec("silver/not_yet_created")
    log_path = str(lake / "ops" / "maintenance_log")
    # Small output files, as a big table would have, so the Z-order shows in the file ranges.
    spark.conf.set("spark.databricks.delta.optimize.maxFileSize", str(24 * 1024))
    try:
        records = run(spark, str(lake), [spec, missing], SUNDAY, log_path)
    finally:
        spark.conf.unset("spark.databricks.delta.optimize.maxFileSize")

    after_files = candidate_files(spark, table, target)
    assert before_files >= 30 and after_files <= 3, (before_files, after_files)
    assertDataFrameEqual(selection(), before_rows)
    done, skipped = records
    assert (done["status"], done["files_before"]) == ("ok", 40) and 1 < done["files_after"] < 40
    assert done["operations"].startswith("optimize zorder(mmsi) where event_date >= DATE'2026-11-22'")
    assert skipped["status"] == "skipped"

    # A rerun of the same date replaces its log rows rather than adding to them.
    run(spark, str(lake), [spec, missing], SUNDAY, log_path)
    logged = spark.read.format("delta").load(log_path)
    assert sorted((r.table_name, r.status) for r in logged.collect()) == [
        ("silver/not_yet_created", "skipped"), ("silver/positions", "ok")]
