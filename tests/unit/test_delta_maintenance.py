from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from maritime_jobs.delta_maintenance import (
    RetentionTooShortError,
    is_due,
    maintenance_plan,
    optimize_filter,
    run,
    settings,
)
from maritimeiq import catalog
from maritimeiq.catalog import Table
from maritimeiq.config import TableMaintenanceOverride

SUNDAY, MONDAY = date(2026, 11, 29), date(2026, 11, 30)
POSITIONS = "mmsi string, event_time timestamp, event_date date, latitude double"


def test_the_plan_is_the_catalog_and_respects_the_minimum():
    plan = {table.key: table for table in maintenance_plan({})}
    assert list(plan) == [table.key for table in catalog.TABLES]
    assert plan["silver/ais_positions"].zorder_by == ("mmsi", "event_time")
    assert plan["gold/vessel_daily_metrics"].zorder_by == ("mmsi",)
    assert plan["bronze/maritime_ais_data"].zorder_by == ()
    assert min(table.vacuum_retention_hours for table in plan.values()) >= 168


def test_overrides_replace_only_the_fields_they_set():
    plan = {
        table.key: table
        for table in maintenance_plan(
            {
                "gold/voyages": TableMaintenanceOverride(cadence="daily", zorder_by=["mmsi", "departure_time"]),
                "silver/ais_positions": TableMaintenanceOverride(vacuum_retention_hours=720, recent_days=None),
            }
        )
    }
    voyages, positions = plan["gold/voyages"], plan["silver/ais_positions"]
    assert (voyages.cadence, voyages.zorder_by, voyages.recent_days) == ("daily", ("mmsi", "departure_time"), 7)
    assert (positions.vacuum_retention_hours, positions.zorder_by) == (720, ("mmsi", "event_time"))
    # recent_days: None in an override means "the catalog's value", as for every field.
    assert positions.recent_days == catalog.SILVER_AIS_POSITIONS.recent_days


def test_an_override_of_a_table_outside_the_catalog_is_refused():
    with pytest.raises(ValueError, match=r"silver/ais_position'\] are not tables of the catalog"):
        maintenance_plan({"silver/ais_position": TableMaintenanceOverride(cadence="weekly")})


def test_an_override_retention_below_the_minimum_is_refused():
    with pytest.raises(RetentionTooShortError, match=r"silver/ais_positions.*minimum is 168 hours"):
        maintenance_plan({"silver/ais_positions": TableMaintenanceOverride(vacuum_retention_hours=24)})


def test_weekly_tables_run_on_sundays_only():
    daily, weekly = Table("silver", "a", cadence="daily"), Table("gold", "b")
    assert [is_due(daily, d) for d in (SUNDAY, MONDAY)] == [True, True]
    assert [is_due(weekly, d) for d in (SUNDAY, MONDAY)] == [True, False]
    windowed = Table("silver", "a", partition_by=("event_date",), recent_days=3)
    assert optimize_filter(windowed, MONDAY) == "event_date >= DATE'2026-11-27'"
    assert optimize_filter(Table("silver", "a", partition_by=("event_date",), recent_days=None), MONDAY) is None
    assert optimize_filter(Table("silver", "a"), MONDAY) is None


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
    table = Path(catalog.SILVER_AIS_POSITIONS.path(str(lake)))
    for value in (1.0, 2.0):  # the overwrite leaves the first file unreferenced
        spark.createDataFrame([("219000001", datetime(2026, 11, 1), date(2026, 11, 1), value)], POSITIONS).coalesce(
            1
        ).write.format("delta").mode("overwrite").partitionBy("event_date").save(str(table))
    files = data_files(table)
    args = ["--date", MONDAY.isoformat(), "--table", "silver/ais_positions", "--lake-root", str(lake)]

    with pytest.raises(RetentionTooShortError, match=r"minimum is 168 hours"):
        settings([*args, "--vacuum-retention-hours", "167.9"])
    assert data_files(table) == files and len(files) == 2

    parsed, plan = settings([*args, "--vacuum-retention-hours", "168"])
    assert [t.key for t in plan] == ["silver/ais_positions"]
    run(spark, parsed.lake_root, plan, parsed.date, parsed.log_table)
    operations = [r.operation for r in spark.sql(f"DESCRIBE HISTORY delta.`{table}`").collect()]
    assert "VACUUM END" in operations
    assert data_files(table) == files  # both files are younger than the retention
    (logged,) = spark.read.format("delta").load(catalog.OPS_MAINTENANCE_LOG.path(str(lake))).collect()
    assert (logged.table_name, logged.status, logged.files_before) == ("silver/ais_positions", "ok", 1)


def test_a_table_outside_the_catalog_cannot_be_selected():
    with pytest.raises(SystemExit):
        settings(["--date", MONDAY.isoformat(), "--table", "silver/tiny"])


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
        rows = [
            (rng.choice(mmsis), t0 + timedelta(seconds=batch * 200 + i), SUNDAY, rng.uniform(54, 58))
            for i in range(200)
        ]
        spark.createDataFrame(rows, POSITIONS).coalesce(1).write.format("delta").mode("append").partitionBy(
            "event_date"
        ).save(table)
    target = mmsis[42]

    def selection():
        return spark.read.format("delta").load(table).where(f"mmsi = '{target}'").collect()

    before_rows, before_files = selection(), candidate_files(spark, table, target)
    positions = Table("silver", "positions", partition_by=("event_date",), zorder_by=("mmsi",))
    missing = Table("silver", "not_yet_created")
    log_path = str(lake / "ops" / "maintenance_log")
    # Small output files, as a big table would have, so the Z-order shows in the file ranges.
    spark.conf.set("spark.databricks.delta.optimize.maxFileSize", str(24 * 1024))
    try:
        records = run(spark, str(lake), [positions, missing], SUNDAY, log_path)
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
    run(spark, str(lake), [positions, missing], SUNDAY, log_path)
    logged = spark.read.format("delta").load(log_path)
    assert sorted((r.table_name, r.status) for r in logged.collect()) == [
        ("silver/not_yet_created", "skipped"),
        ("silver/positions", "ok"),
    ]
