"""Gold `fleet_daily_kpis`: one row per UTC day and ship type.

Ship type is the IMO CII category where the vessel declares one, else the group of its
AIS ship-and-cargo type (ITU-R M.1371 table 53), taken from the static-data period in
force at the end of the day. KPIs: active vessels, positions, distance, hours under way,
average speed under way (distance / hours under way), and the share of the day's
position reports that were quarantined.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from maritime_jobs.harness import job_parser, replace_range, start_job
from maritimeiq import catalog
from maritimeiq.spark import get_spark

# ITU-R M.1371 "type of ship" first digits and the special codes of the 30s and 50s.
AIS_TYPE_GROUPS = (
    ((20, 29), "wing_in_ground"),
    ((30, 30), "fishing"),
    ((31, 32), "towing"),
    ((33, 33), "dredging"),
    ((34, 34), "diving"),
    ((35, 35), "military"),
    ((36, 36), "sailing"),
    ((37, 37), "pleasure_craft"),
    ((40, 49), "high_speed_craft"),
    ((50, 50), "pilot"),
    ((51, 51), "search_and_rescue"),
    ((52, 52), "tug"),
    ((53, 53), "port_tender"),
    ((55, 55), "law_enforcement"),
    ((58, 58), "medical_transport"),
    ((60, 69), "passenger"),
    ((70, 79), "cargo"),
    ((80, 89), "tanker"),
)


def ship_type_group(ship_category: Column, ship_type: Column) -> Column:
    group = F.when(ship_type.isNull(), F.lit("unknown"))
    for (low, high), name in AIS_TYPE_GROUPS:
        group = group.when(ship_type.between(low, high), F.lit(name))
    return F.coalesce(ship_category, group.otherwise(F.lit("other")))


def transform(metrics: DataFrame, static_history: DataFrame, quarantine: DataFrame, day: date) -> DataFrame:
    """Daily vessel metrics, static-data history and quarantined position reports of
    `day` → KPIs per ship type."""
    end_of_day = F.lit(datetime.combine(day + timedelta(days=1), time()))
    in_force = (
        static_history.where(F.col("valid_from") < end_of_day)
        .withColumn("_rank", F.row_number().over(Window.partitionBy("mmsi").orderBy(F.desc("valid_from"))))
        .where("_rank = 1")
        .select("mmsi", ship_type_group(F.col("ship_category"), F.col("ship_type")).alias("ship_type_group"))
    )
    typed = metrics.join(in_force, "mmsi", "left").fillna({"ship_type_group": "unknown"})
    per_type = typed.groupBy("ship_type_group").agg(
        F.countDistinct("mmsi").alias("active_vessels"),
        F.sum("positions").alias("positions"),
        F.sum("distance_nm").alias("distance_nm"),
        F.sum("hours_underway").alias("hours_underway"),
    )
    rejected = (
        quarantine.where(F.to_date("event_time") == F.lit(day))
        .join(in_force, "mmsi", "left")
        .fillna({"ship_type_group": "unknown"})
        .groupBy("ship_type_group")
        .agg(F.count("*").alias("quarantined_positions"))
    )
    kpis = per_type.join(rejected, "ship_type_group", "full").fillna(
        {"active_vessels": 0, "positions": 0, "distance_nm": 0.0, "hours_underway": 0.0, "quarantined_positions": 0}
    )
    reports = F.col("positions") + F.col("quarantined_positions")
    return kpis.select(
        F.lit(day).alias("event_date"),
        "ship_type_group",
        "active_vessels",
        "positions",
        "distance_nm",
        "hours_underway",
        F.when(F.col("hours_underway") > 0, F.col("distance_nm") / F.col("hours_underway")).alias("avg_speed_kn"),
        "quarantined_positions",
        F.when(reports > 0, F.col("quarantined_positions") / reports).alias("quarantine_rate"),
    )


def run(spark, lake_root: str, day: date) -> int:
    """Recompute one day and replace exactly that day's partition; the ship types written."""

    def table(entry: catalog.Table) -> DataFrame:
        return spark.read.format("delta").load(entry.path(lake_root))

    metrics = table(catalog.GOLD_VESSEL_DAILY_METRICS).where(F.col("event_date") == F.lit(day))
    if DeltaTable.isDeltaTable(spark, catalog.SILVER_VESSEL_STATIC.path(lake_root)):
        history = table(catalog.SILVER_VESSEL_STATIC)
    else:  # no static data promoted yet: every vessel's type is unknown
        history = spark.createDataFrame([], "mmsi string, valid_from timestamp, ship_category string, ship_type long")
    # A report of `day` arrives at most the future tolerance (an hour) before it.
    quarantine = (
        table(catalog.SILVER_AIS_POSITIONS_QUARANTINE)
        .where(F.col("ingest_date") >= F.lit(day - timedelta(days=1)))
        .select("mmsi", "event_time")
    )
    kpis = transform(metrics, history, quarantine, day)
    replace_range(kpis, catalog.GOLD_FLEET_DAILY_KPIS, lake_root, "event_date", day, day + timedelta(days=1))
    return kpis.count()


def main(argv: list[str] | None = None) -> None:
    args = job_parser(__doc__.splitlines()[0], interval="day").parse_args(argv)
    log = start_job(args, "gold_fleet_daily")
    spark = get_spark("gold-fleet-daily")
    # Day by day: a vessel's ship type is the one in force at the end of each day.
    for offset in range((args.end - args.start).days):
        day = args.start + timedelta(days=offset)
        log.info("gold.fleet_daily_kpis %s: %d ship types", day, run(spark, args.lake_root, day))


if __name__ == "__main__":
    main()
