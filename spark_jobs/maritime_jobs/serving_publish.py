"""Publish days of the Gold tables to the serving SQL database.

For each day and each Gold table that exists (vessel_daily_metrics, fleet_daily_kpis,
voyages, maintenance_predictions, cii_ratings), the day's slice (for cii_ratings: the
day's year) is read with Spark, collected (small per day) and written through SQLAlchemy,
replacing that slice in one transaction: reruns are idempotent. The schema is migrated first.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import TimestampType

from maritime_jobs.harness import job_parser, start_job
from maritimeiq import catalog
from maritimeiq.config import get_config
from maritimeiq.serving import PUBLISHED, Published, engine_for, migrate, publish
from maritimeiq.spark import get_spark

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def extract(spark: SparkSession, lake_root: str, published: Published, day: date) -> DataFrame | None:
    """The day's slice of a Gold table; None when the table has not been written yet."""
    path = catalog.table(f"gold/{published.name}").path(lake_root)
    if "://" not in path and not (Path(path) / "_delta_log").is_dir():
        return None
    return spark.read.format("delta").load(path).where(F.col(published.slice_column) == F.lit(published.slice_of(day)))


def transform(frame: DataFrame, published: Published) -> DataFrame:
    """The serving table's columns, in its order. Timestamps become UTC wall-clock
    (timestamp_ntz in the UTC session): collected, they stay UTC whatever the time zone
    of the Python process."""
    types = {f.name: f.dataType for f in frame.schema.fields}
    return frame.select(
        *[
            F.col(c).cast("timestamp_ntz").alias(c) if isinstance(types[c], TimestampType) else c
            for c in published.columns
        ]
    )


def load(engine: Engine, published: Published, day: date, frame: DataFrame) -> int:
    return publish(engine, published, day, (row.asDict() for row in frame.toLocalIterator()))


def run(spark: SparkSession, lake_root: str, database_url: str, day: date, tables: list[str]) -> dict[str, int]:
    """Publish the day's slice of each table; returns the rows now served per table."""
    engine = engine_for(database_url)
    try:
        migrate(engine)
        written = {}
        for name in tables:
            published = PUBLISHED[name]
            frame = extract(spark, lake_root, published, day)
            if frame is not None:
                written[name] = load(engine, published, day, transform(frame, published))
        return written
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = job_parser(__doc__.splitlines()[0], interval="day")
    parser.add_argument("--database-url", default=get_config().serving.database_url)
    parser.add_argument(
        "--table",
        action="append",
        choices=sorted(PUBLISHED),
        help="publish only these tables (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    log = start_job(args, "serving_publish")
    spark = get_spark("serving-publish")
    for offset in range((args.end - args.start).days):
        day = args.start + timedelta(days=offset)
        for name, rows in run(spark, args.lake_root, args.database_url, day, args.table or list(PUBLISHED)).items():
            log.info("serving.%s %s: %d rows", name, day, rows)


if __name__ == "__main__":
    main()
