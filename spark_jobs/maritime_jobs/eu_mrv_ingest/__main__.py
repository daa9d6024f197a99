"""Ingest EMSA EU MRV "Publication of information" workbooks into Silver and Gold.

The job: read the workbooks, replace their reporting periods in the reports, the
quarantine and the Gold aggregate (see the package docstring)."""

from __future__ import annotations

import glob
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from maritime_jobs.eu_mrv_ingest import parse
from maritime_jobs.harness import job_parser, start_job
from maritimeiq import catalog
from maritimeiq.config import PROJECT_ROOT
from maritimeiq.spark import get_spark

JOB = "eu_mrv_ingest"
log = logging.getLogger(f"maritime.{JOB}")


def silver_schema() -> T.StructType:
    kinds = {
        "text": T.StringType(),
        "imo": T.StringType(),
        "period": T.IntegerType(),
        "number": T.DoubleType(),
        "date": T.DateType(),
    }
    fields = [T.StructField(c.name, kinds[c.kind], nullable=not c.required) for c in parse.COLUMNS]
    fields += [
        T.StructField("distance_nm", T.DoubleType(), False),
        T.StructField("implied_cf", T.DoubleType(), False),
        T.StructField("cf_out_of_range", T.BooleanType(), False),
        T.StructField("co2_distance_mismatch", T.BooleanType(), False),
        T.StructField("time_at_sea_exceeds_year", T.BooleanType(), False),
        T.StructField("source_file", T.StringType(), False),
        T.StructField("source_row", T.IntegerType(), False),
    ]
    return T.StructType(fields)


def quarantine_schema() -> T.StructType:
    return T.StructType(
        [
            T.StructField("reporting_period", T.IntegerType(), False),
            T.StructField("imo", T.StringType()),
            T.StructField("name", T.StringType()),
            T.StructField("ship_type", T.StringType()),
            T.StructField("reason", T.StringType(), False),
            T.StructField("reasons", T.ArrayType(T.StringType(), False), False),
            T.StructField("column", T.StringType(), False),
            T.StructField("raw_value", T.StringType()),
            T.StructField("source_file", T.StringType(), False),
            T.StructField("source_row", T.IntegerType(), False),
        ]
    )


def expand(patterns: Sequence[str], root: Path | None = None) -> list[str]:
    """Workbook paths from paths or glob patterns, sorted and without repeats; a pattern
    matching nothing is an error (a missing file must not look like an empty year)."""
    paths: list[str] = []
    for pattern in patterns:
        path = Path(pattern)
        if root is not None and not path.is_absolute():
            path = root / path
        matches = sorted(glob.glob(str(path))) if glob.has_magic(str(path)) else [str(path)]
        matches = [m for m in matches if Path(m).is_file()]
        if not matches:
            raise FileNotFoundError(f"no EU MRV workbook matches {str(path)!r}")
        paths.extend(m for m in matches if m not in paths)
    return paths


def extract(paths: Sequence[str]) -> list[parse.Report]:
    return parse.read_workbooks(paths)


def to_frames(spark: SparkSession, reports: Sequence[parse.Report]) -> tuple[DataFrame, DataFrame]:
    """Silver reports and quarantine rows as DataFrames."""
    usable = [r.silver_record() for r in reports if not r.problems]
    quarantined = [r.quarantine_record() for r in reports if r.problems]
    missing_period = [q for q in quarantined if q["reporting_period"] is None]
    if missing_period:
        first = missing_period[0]
        raise ValueError(
            f"{len(missing_period)} rows without a readable reporting period in a file with "
            f"none, e.g. {first['source_file']} row {first['source_row']}"
        )
    return (spark.createDataFrame(usable, silver_schema()), spark.createDataFrame(quarantined, quarantine_schema()))


def transform_gold(reports: DataFrame) -> DataFrame:
    """Per ship type and reporting period. Totals of published figures are summed as
    decimals (they have two decimals), so reruns give bit-identical sums. Time at sea
    longer than the year itself is left out of the time total (one 2019 report alone
    claims 6e8 hours) and counted instead."""

    def exact_sum(column: str | Column) -> Column:
        return F.sum((F.col(column) if isinstance(column, str) else column).cast("decimal(20,2)")).cast("double")

    def flagged(column: str) -> Column:
        return F.sum(F.col(column).cast("int"))

    return (
        reports.groupBy("reporting_period", "ship_type")
        .agg(
            F.countDistinct("imo").alias("ships"),
            exact_sum("co2_t").alias("co2_t"),
            exact_sum("fuel_t").alias("fuel_t"),
            F.round(F.sum("distance_nm"), 2).alias("distance_nm"),
            exact_sum(F.when(~F.col("time_at_sea_exceeds_year"), F.col("time_at_sea_h"))).alias("time_at_sea_h"),
            F.median("implied_cf").alias("median_implied_cf"),
            flagged("cf_out_of_range").alias("ships_cf_out_of_range"),
            flagged("co2_distance_mismatch").alias("ships_co2_distance_mismatch"),
            flagged("time_at_sea_exceeds_year").alias("ships_time_at_sea_exceeds_year"),
        )
        .orderBy("reporting_period", "ship_type")
    )


def periods_predicate(periods: Sequence[int]) -> str:
    return f"reporting_period IN ({', '.join(str(int(p)) for p in sorted(set(periods)))})"


def replace_periods(frame: DataFrame, table: catalog.Table, lake_root: str, periods: Sequence[int]) -> None:
    """Replace exactly the given reporting periods, in one commit. The input's periods
    need not be consecutive (a rerun of 2018 and 2020 leaves 2019 alone), so this is no
    range write."""
    (
        frame.write.format("delta")
        .mode("overwrite")
        .partitionBy(*table.partition_by)
        .option("replaceWhere", periods_predicate(periods))
        .save(table.path(lake_root))
    )


def load(spark: SparkSession, reports: Sequence[parse.Report], lake_root: str) -> dict[str, int]:
    silver, quarantine = to_frames(spark, reports)
    periods = sorted({r.period for r in reports if r.period is not None})
    if not periods:
        raise ValueError("no reporting period in the input")
    replace_periods(silver, catalog.SILVER_EU_MRV_REPORTS, lake_root, periods)
    replace_periods(quarantine, catalog.SILVER_EU_MRV_QUARANTINE, lake_root, periods)
    # Gold from the Silver table just written, so it always matches what Silver holds.
    written = (
        spark.read.format("delta").load(catalog.SILVER_EU_MRV_REPORTS.path(lake_root)).where(periods_predicate(periods))
    )
    replace_periods(transform_gold(written), catalog.GOLD_EU_MRV_SHIP_TYPE_YEAR, lake_root, periods)
    return {"reports": sum(not r.problems for r in reports), "quarantined": sum(bool(r.problems) for r in reports)}


def print_dry_run(reports: Sequence[parse.Report], out: TextIO | None = None) -> None:
    out = out or sys.stdout  # looked up per call, so a redirected stdout is honoured
    for report in reports:
        out.write(json.dumps(report.dry_run_record(), ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = job_parser(__doc__.splitlines()[0])
    parser.add_argument("workbooks", nargs="*", metavar="FILE.xlsx", help="EMSA MRV workbooks (paths or glob patterns)")
    parser.add_argument(
        "--workbooks-json", help="JSON list of paths or patterns, relative ones under the project root (the DAG's way)"
    )
    parser.add_argument("--dry-run", action="store_true", help="write nothing; print one JSON line per input ship row")
    args = parser.parse_args(argv)

    patterns = list(args.workbooks)
    paths = expand(patterns) if patterns else []
    if args.workbooks_json:
        paths += [p for p in expand(json.loads(args.workbooks_json), root=PROJECT_ROOT) if p not in paths]
    if not paths:
        parser.error("name at least one workbook")
    reports = extract(paths)
    if args.dry_run:
        # The JSON lines are the output: nothing else goes to stdout.
        print_dry_run(reports)
        return

    start_job(args, JOB)
    counts = load(get_spark("eu-mrv-ingest"), reports, args.lake_root)
    log.info(
        "%d reports to %s, %d quarantined to %s, Gold %s",
        counts["reports"],
        catalog.SILVER_EU_MRV_REPORTS.path(args.lake_root),
        counts["quarantined"],
        catalog.SILVER_EU_MRV_QUARANTINE.path(args.lake_root),
        catalog.GOLD_EU_MRV_SHIP_TYPE_YEAR.path(args.lake_root),
    )


if __name__ == "__main__":
    main()
