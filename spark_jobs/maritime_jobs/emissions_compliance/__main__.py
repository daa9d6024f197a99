"""Gold emissions and IMO CII compliance for one reporting year.

The job: read Silver and Gold, replace the year in the four Gold tables, write the
compliance report."""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from maritime_jobs.emissions_compliance.report import default_reports_dir, summarize, summary_lines, write_report
from maritime_jobs.emissions_compliance.transforms import COMPLIANCE_CHECKS, Period, static_as_of, transform, within
from maritime_jobs.harness import job_parser, replace_range, start_job
from maritimeiq import catalog, cii
from maritimeiq.spark import get_spark

JOB = "emissions_compliance"
log = logging.getLogger(f"maritime.{JOB}")


def extract(spark: SparkSession, lake_root: str, period: Period) -> dict[str, DataFrame]:
    """The inputs from the start of the rolling windows to the end of the year."""

    def read(table: catalog.Table) -> DataFrame:
        path = table.path(lake_root)
        if not DeltaTable.isDeltaTable(spark, path):
            raise FileNotFoundError(f"input table missing: {path}")
        return spark.read.format("delta").load(path)

    window = (period.lookback_start, period.end)
    return {
        "fuel_reports": read(catalog.SILVER_FUEL_REPORTS).where(within("report_date", *window)),
        # Only ship stations burn fuel; base stations and aids to navigation are not vessels.
        "ais_positions": read(catalog.SILVER_AIS_POSITIONS)
        .where(within("event_date", *window))
        .where(F.col("mmsi_class") == "ship")
        .select("mmsi", "event_time", "event_date", "latitude", "longitude", "sog_kn", "nav_status", "offset"),
        "vessel_static": static_as_of(read(catalog.SILVER_VESSEL_STATIC), period.end_moment),
        "vessel_daily": read(catalog.GOLD_VESSEL_DAILY_METRICS)
        .where(within("event_date", *window))
        .select("mmsi", "event_date", "distance_nm"),
    }


def rating_history(spark: SparkSession, lake_root: str, year: int) -> DataFrame:
    """Ratings of the two years before `year` from the Gold table (empty on a fresh lake),
    collected so that rewriting cii_ratings later cannot change what was read. `period`
    comes along: `cii_ratings` counts only annual ones towards a corrective action plan."""
    schema = "mmsi string, year int, rating string, period string"
    path = catalog.GOLD_CII_RATINGS.path(lake_root)
    rows = (
        []
        if not DeltaTable.isDeltaTable(spark, path)
        else (
            spark.read.format("delta")
            .load(path)
            .where(F.col("year").between(year - 2, year - 1))
            .select("mmsi", "year", "rating", "period")
            .collect()
        )
    )
    return spark.createDataFrame(rows, schema)


def load(result: dict[str, DataFrame], lake_root: str, period: Period) -> None:
    """Replace exactly the reporting year in every Gold table, so reruns give the same tables."""
    writes = (
        (catalog.GOLD_CO2_DAILY, "co2_daily", "date", period.start, period.end),
        (catalog.GOLD_FUEL_REPORT_QUARANTINE, "fuel_report_quarantine", "report_date", period.start, period.end),
        (catalog.GOLD_CII_RATINGS, "cii_ratings", "year", period.year, period.year + 1),
        (catalog.GOLD_CII_TRAJECTORY, "cii_trajectory", "reporting_year", period.year, period.year + 1),
    )
    for table, name, column, start, end in writes:
        replace_range(result[name], table, lake_root, column, start, end)


def run(spark: SparkSession, lake_root: str, year: int, reports_dir: Path, check: str = "imo-2030") -> dict[str, Any]:
    """Compute, write and report one reporting year; returns the summary."""
    started = time.monotonic()
    period = Period(year)
    log.info("reading inputs %s .. %s", period.lookback_start, period.last_day)
    sources = extract(spark, lake_root, period)
    tagged = [frame.select(F.lit(name).alias("table")) for name, frame in sources.items()]
    records = {name: 0 for name in sources} | {
        r["table"]: r["count"]
        for r in functools.reduce(DataFrame.unionByName, tagged).groupBy("table").count().collect()
    }
    log.info("loaded %d records: %s", sum(records.values()), ", ".join(f"{k} {v}" for k, v in sorted(records.items())))
    result = transform(
        spark,
        sources,
        rating_history(spark, lake_root, year),
        period,
        COMPLIANCE_CHECKS[check],
        materialize=lambda frame: frame.cache(),
    )
    log.info("writing co2_daily, fuel_report_quarantine, cii_ratings, cii_trajectory")
    load(result, lake_root, period)

    log.info("building the compliance report")
    ratings = [
        r.asDict()
        for r in spark.read.format("delta")
        .load(catalog.GOLD_CII_RATINGS.path(lake_root))
        .where(F.col("year") == year)
        .orderBy("mmsi")
        .collect()
    ]
    trajectory = [
        r.asDict()
        for r in spark.read.format("delta")
        .load(catalog.GOLD_CII_TRAJECTORY.path(lake_root))
        .where(F.col("reporting_year") == year)
        .orderBy("mmsi", "year")
        .collect()
    ]
    vessels = [r.asDict() for r in result["vessels"].select("exclusion_reason", "through_date", "period").collect()]
    quarantined = {
        r["quarantine_reason"]: r["count"]
        for r in result["fuel_report_quarantine"].groupBy("quarantine_reason").count().collect()
    }
    for frame in result.values():
        frame.unpersist()
    summary = summarize(year, check, ratings, vessels, quarantined, sum(records.values()))
    summary["report"] = write_report(reports_dir, year, ratings, trajectory, summary)
    minutes = max(time.monotonic() - started, 1e-9) / 60
    summary["records_per_minute"] = summary["records_loaded"] / minutes
    return summary


def latest_year(spark: SparkSession, lake_root: str) -> int:
    """Without --year: the last year holding fuel reports or daily metrics."""
    years = [
        spark.read.format("delta").load(table.path(lake_root)).agg(F.max(F.year(column))).first()[0]
        for table, column in (
            (catalog.SILVER_FUEL_REPORTS, "report_date"),
            (catalog.GOLD_VESSEL_DAILY_METRICS, "event_date"),
        )
        if DeltaTable.isDeltaTable(spark, table.path(lake_root))
    ]
    years = [y for y in years if y is not None]
    if not years:
        raise SystemExit("no input data to take a year from; pass --year")
    return max(years)


def main(argv: list[str] | None = None) -> None:
    parser = job_parser(__doc__.splitlines()[0])
    parser.add_argument("--compliance-check", required=True, choices=sorted(COMPLIANCE_CHECKS))
    parser.add_argument(
        "--year",
        type=int,
        choices=sorted(cii.REDUCTION_FACTOR_PCT),
        help="reporting year (default: the last year in the inputs)",
    )
    parser.add_argument(
        "--reports-dir", type=Path, help="folder for the Markdown, CSV and PNG report (default: <lake root>/../reports)"
    )
    args = parser.parse_args(argv)
    start_job(args, JOB)
    spark = get_spark("emissions-compliance")
    year = args.year or latest_year(spark, args.lake_root)
    if year not in cii.REDUCTION_FACTOR_PCT:
        raise SystemExit(f"no reduction factor for {year}; --year must be one of {sorted(cii.REDUCTION_FACTOR_PCT)}")
    log.info("reporting year %d, check %s", year, args.compliance_check)
    summary = run(
        spark, args.lake_root, year, args.reports_dir or default_reports_dir(args.lake_root), args.compliance_check
    )
    for line in summary_lines(summary):
        log.info(line)


if __name__ == "__main__":
    main()
