"""Gold `vessel_daily_metrics`: one row per MMSI and UTC day from Silver positions.

Distance is the haversine sum between consecutive fixes of the day (R = 6371.0088 km).
The time between two fixes is credited to the state of the earlier one: stationary
when its navigational status is at anchor, moored or aground (1, 5, 6) or its SOG is
below 0.5 kn, underway otherwise. A silence of more than an hour is a reporting gap:
counted, and credited to neither state.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from maritime_jobs.harness import job_parser, replace_range, start_job
from maritime_jobs.silver_ais import haversine_nm
from maritimeiq import catalog
from maritimeiq.spark import get_spark

GAP_HOURS = 1.0
STATIONARY_STATUS = (1, 5, 6)  # ITU-R M.1371 navigational status: at anchor, moored, aground
STATIONARY_SOG_KN = 0.5  # GFW port visits: a stop ends at 0.5 kn


def transform(positions: DataFrame) -> DataFrame:
    fixes = positions.where(F.col("latitude").isNotNull() & F.col("longitude").isNotNull())
    track = Window.partitionBy("mmsi", "event_date").orderBy("event_time", "offset")
    next_time = F.lead("event_time").over(track)
    hop_hours = (next_time.cast("double") - F.col("event_time").cast("double")) / 3600.0
    stationary = F.col("nav_status").isin(*STATIONARY_STATUS) | (
        F.coalesce(F.col("sog_kn"), F.lit(0.0)) < STATIONARY_SOG_KN
    )
    steps = fixes.select(
        "mmsi",
        "event_date",
        "event_time",
        "latitude",
        "longitude",
        "sog_kn",
        haversine_nm(
            F.col("latitude"), F.col("longitude"), F.lead("latitude").over(track), F.lead("longitude").over(track)
        ).alias("hop_nm"),
        hop_hours.alias("hop_hours"),
        stationary.alias("stationary"),
    )
    credited = F.when(F.col("hop_hours") <= GAP_HOURS, F.col("hop_hours")).otherwise(F.lit(0.0))
    first = F.min_by(F.struct("event_time", "latitude", "longitude"), "event_time")
    last = F.max_by(F.struct("event_time", "latitude", "longitude"), "event_time")
    return (
        steps.groupBy("event_date", "mmsi")
        .agg(
            F.count("*").alias("positions"),
            F.avg("sog_kn").alias("avg_sog_kn"),
            F.max("sog_kn").alias("max_sog_kn"),
            F.coalesce(F.sum("hop_nm"), F.lit(0.0)).alias("distance_nm"),
            F.sum(F.when(~F.col("stationary"), credited).otherwise(0.0)).alias("hours_underway"),
            F.sum(F.when(F.col("stationary"), credited).otherwise(0.0)).alias("hours_stationary"),
            F.sum((F.col("hop_hours") > GAP_HOURS).cast("int")).alias("reporting_gaps_over_1h"),
            first.alias("first"),
            last.alias("last"),
        )
        .select(
            "event_date",
            "mmsi",
            "positions",
            "avg_sog_kn",
            "max_sog_kn",
            "distance_nm",
            "hours_underway",
            "hours_stationary",
            "reporting_gaps_over_1h",
            F.col("first.event_time").alias("first_time"),
            F.col("first.latitude").alias("first_latitude"),
            F.col("first.longitude").alias("first_longitude"),
            F.col("last.event_time").alias("last_time"),
            F.col("last.latitude").alias("last_latitude"),
            F.col("last.longitude").alias("last_longitude"),
        )
    )


def run(spark, lake_root: str, start: date, end: date) -> int:
    """Recompute the days [start, end) and replace exactly those days; the vessel-days written."""
    positions = (
        spark.read.format("delta")
        .load(catalog.SILVER_AIS_POSITIONS.path(lake_root))
        .where((F.col("event_date") >= F.lit(start)) & (F.col("event_date") < F.lit(end)))
    )
    metrics = transform(positions)
    replace_range(metrics, catalog.GOLD_VESSEL_DAILY_METRICS, lake_root, "event_date", start, end)
    return metrics.count()


def main(argv: list[str] | None = None) -> None:
    args = job_parser(__doc__.splitlines()[0], interval="day").parse_args(argv)
    log = start_job(args, "gold_vessel_daily")
    vessel_days = run(get_spark("gold-vessel-daily"), args.lake_root, args.start, args.end)
    log.info("gold.vessel_daily_metrics %s..%s (exclusive): %d vessel-days", args.start, args.end, vessel_days)


if __name__ == "__main__":
    main()
