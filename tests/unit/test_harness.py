from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime

import pytest
from pyspark.testing import assertDataFrameEqual

from maritime_jobs.harness import job_parser, replace_range, sql_literal, start_job
from maritimeiq.catalog import Table
from maritimeiq.config import get_config


def test_every_job_takes_the_lake_root_and_a_log_format():
    args = job_parser("a job").parse_args([])
    assert args.lake_root == get_config().lake.root.rstrip("/")
    assert args.log_format == "text"
    assert not hasattr(args, "start")
    assert job_parser("a job").parse_args(["--lake-root", "/data/lake"]).lake_root == "/data/lake"


def test_a_day_interval_is_two_utc_dates():
    args = job_parser("daily", interval="day").parse_args(["--start", "2026-03-01", "--end", "2026-03-04"])
    assert (args.start, args.end) == (date(2026, 3, 1), date(2026, 3, 4))


def test_a_time_interval_is_two_utc_instants():
    args = job_parser("hourly", interval="time").parse_args(
        ["--start", "2026-03-01T10:00:00Z", "--end", "2026-03-01T12:30:00+01:00"]
    )
    assert args.start == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert args.end == datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
    naive = job_parser("hourly", interval="time").parse_args(["--start", "2026-03-01T10:00", "--end", "2026-03-02"])
    assert naive.start.tzinfo == UTC


@pytest.mark.parametrize(
    "interval, start, end",
    [
        ("day", "2026-03-02", "2026-03-02"),
        ("day", "2026-03-02", "2026-03-01"),
        ("time", "2026-03-01T10:00:00Z", "2026-03-01T09:59:00Z"),
    ],
)
def test_an_empty_or_reversed_range_is_refused(interval, start, end, capsys):
    with pytest.raises(SystemExit) as exit_info:
        job_parser("job", interval=interval).parse_args(["--start", start, "--end", end])
    assert exit_info.value.code == 2
    assert "--end" in capsys.readouterr().err


def test_a_range_needs_both_ends():
    with pytest.raises(SystemExit):
        job_parser("job", interval="day").parse_args(["--start", "2026-03-01"])


def test_json_logs_are_one_object_per_line(capsys):
    log = start_job(job_parser("job").parse_args(["--log-format", "json"]), "test_job")
    try:
        log.info("wrote %d rows", 3)
        log.info({"event": "range_replaced", "day": date(2026, 3, 1)})
        first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    finally:
        logging.getLogger().handlers.clear()
    assert first["message"] == "wrote 3 rows"
    assert first["level"] == "INFO" and first["logger"] == "maritime.test_job"
    assert second["event"] == "range_replaced" and second["day"] == "2026-03-01"


def test_text_logs_name_the_job(capsys):
    log = start_job(job_parser("job").parse_args([]), "test_job")
    try:
        log.info("wrote %d rows", 3)
    finally:
        logging.getLogger().handlers.clear()
    assert capsys.readouterr().out.rstrip().endswith("INFO maritime.test_job wrote 3 rows")


def test_sql_literals():
    assert sql_literal(date(2026, 3, 1)) == "DATE'2026-03-01'"
    assert sql_literal(datetime(2026, 3, 1, 10, 5, tzinfo=UTC)) == "TIMESTAMP'2026-03-01 10:05:00.000000'"
    assert sql_literal(2026) == "2026"
    with pytest.raises(TypeError):
        sql_literal("2026-03-01")


DAILY = "day date, mmsi string, value long"


def test_replace_range_rewrites_the_range_only(spark, tmp_path):
    table = Table(layer="gold", name="harness_daily", partition_by=("day",))
    lake = str(tmp_path)
    first = [(date(2026, 3, d), m, d) for d in (1, 2, 3, 4) for m in ("a", "b")]
    replace_range(spark.createDataFrame(first, DAILY), table, lake, "day", date(2026, 3, 1), date(2026, 3, 5))
    # Days 2 and 3 recomputed: vessel b gone, a changed; days 1 and 4 untouched.
    rerun = [(date(2026, 3, 2), "a", 20), (date(2026, 3, 3), "a", 30)]
    replace_range(spark.createDataFrame(rerun, DAILY), table, lake, "day", date(2026, 3, 2), date(2026, 3, 4))

    stored = spark.read.format("delta").load(table.path(lake))
    expected = [row for row in first if row[0].day in (1, 4)] + rerun
    assertDataFrameEqual(stored, spark.createDataFrame(expected, DAILY))
    partitions = spark.sql(f"DESCRIBE DETAIL delta.`{table.path(lake)}`").first()["partitionColumns"]
    assert partitions == ["day"]


def test_replace_range_refuses_rows_outside_the_range(spark, tmp_path):
    table = Table(layer="gold", name="harness_daily", partition_by=("day",))
    outside = spark.createDataFrame([(date(2026, 3, 9), "a", 1)], DAILY)
    replace_range(outside, table, str(tmp_path), "day", date(2026, 3, 9), date(2026, 3, 10))
    with pytest.raises(Exception, match="(?i)replaceWhere|does not conform|not match"):
        replace_range(outside, table, str(tmp_path), "day", date(2026, 3, 1), date(2026, 3, 2))


TIMED = "bucket_date date, bucket_time timestamp, pair string"


def test_replace_range_on_instants_and_a_new_column(spark, tmp_path):
    table = Table(layer="gold", name="harness_alerts", partition_by=("bucket_date",))
    lake = str(tmp_path)
    t = [datetime(2026, 3, 1, 10, m) for m in (0, 30, 59)]
    rows = [(x.date(), x, f"p{x.minute}") for x in t]
    replace_range(
        spark.createDataFrame(rows, TIMED),
        table,
        lake,
        "bucket_time",
        datetime(2026, 3, 1, 10, tzinfo=UTC),
        datetime(2026, 3, 1, 11, tzinfo=UTC),
    )
    # [10:30, 11:00) again, now with an extra column: merge_schema adds it, earlier rows read null.
    again = spark.createDataFrame([(t[1].date(), t[1], "q30", 1.5)], f"{TIMED}, score double")
    replace_range(
        again,
        table,
        lake,
        "bucket_time",
        datetime(2026, 3, 1, 10, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 11, tzinfo=UTC),
        merge_schema=True,
    )

    expected = spark.createDataFrame(
        [(t[0].date(), t[0], "p0", None), (t[1].date(), t[1], "q30", 1.5)], f"{TIMED}, score double"
    )
    assertDataFrameEqual(spark.read.format("delta").load(table.path(lake)), expected)
