"""Bronze → Silver for AIS positions: parse, validate by named rules, tag MMSI classes,
drop duplicates.

The transform is pure: Bronze rows of `maritime.ais.data` in, one row per position
event out with `rule_violations` (empty when valid) and `is_duplicate`. Loading splits
them into Silver, quarantine and the duplicate count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from maritimeiq.events import spark_schema
from maritimeiq.geo import EARTH_RADIUS_KM, KM_PER_NM

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


@dataclass(frozen=True)
class AisRules:
    # ITU-R M.1371: SOG is coded 0-102.2 kn (102.3 = not available, already null).
    max_sog_kn: float = 102.2
    # Merchant ships do not sustain 50 kn; high-speed craft (ship types 40-49) may.
    implausible_sog_kn: float = 50.0
    # Implied speed between consecutive fixes (AISdb uses 50 kn); short hops are exempt
    # because position noise dominates them (GFW segmenter's distance slack).
    max_implied_speed_kn: float = 50.0
    implied_speed_min_distance_nm: float = 1.0
    # Event time may run ahead of ingest by clock error only; before 2000 there was no AIS.
    future_tolerance_minutes: int = 60
    earliest_event_time: str = "2000-01-01 00:00:00"


def mmsi_class(mmsi: Column) -> Column:
    """ITU-R M.585 MMSI classes; ship stations have a MID of 201-775 as first digits."""
    from pyspark.sql import functions as F

    mid = mmsi.substr(1, 3).cast("int")
    return (F.when(~F.coalesce(mmsi.rlike("^[0-9]{9}$"), F.lit(False)), F.lit(None))
            .when(mmsi.startswith("00"), "coast_station")
            .when(mmsi.startswith("111"), "sar_aircraft")
            .when(mmsi.startswith("970"), "ais_sart")
            .when(mmsi.startswith("972"), "man_overboard")
            .when(mmsi.startswith("974"), "epirb_ais")
            .when(mmsi.startswith("98"), "craft_of_parent_ship")
            .when(mmsi.startswith("99"), "aid_to_navigation")
            .when(mid.between(201, 775), "ship")
            .otherwise("other"))


def haversine_nm(lat1: Column, lon1: Column, lat2: Column, lon2: Column) -> Column:
    from pyspark.sql import functions as F

    p1, p2 = F.radians(lat1), F.radians(lat2)
    dp, dl = p2 - p1, F.radians(lon2 - lon1)
    root = F.sqrt(F.sin(dp / 2) ** 2 + F.cos(p1) * F.cos(p2) * F.sin(dl / 2) ** 2)
    # Clamp rounding above 1; `least` would skip a null and turn a missing point into a distance.
    return 2 * EARTH_RADIUS_KM * F.asin(F.when(root > 1.0, F.lit(1.0)).otherwise(root)) / KM_PER_NM


def transform(bronze: DataFrame, rules: AisRules = AisRules(), high_speed_mmsis: DataFrame | None = None
              ) -> DataFrame:
    """Bronze AIS rows → position events with `rule_violations` and `is_duplicate`.

    `high_speed_mmsis` (column `mmsi`) lists craft allowed above the implausible-speed
    limit (ship types 40-49 from vessel static data).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    schema = spark_schema("ais_position")
    parsed = bronze.select(
        "topic", "partition", "offset", "ingest_time",
        F.col("value").cast("string").alias("payload"),
    ).withColumn("event", F.from_json("payload", schema, {"mode": "PERMISSIVE"}))
    event_type = F.get_json_object("payload", "$.event_type")
    # Other event types on the topic (static data, raw types) belong to other Silver tables.
    positions = parsed.where(event_type.isNull() | (event_type == "ais_position")).select(
        "topic", "partition", "offset", "ingest_time", "payload", "event.*")

    if high_speed_mmsis is not None:
        positions = positions.join(high_speed_mmsis.select("mmsi").distinct()
                                   .withColumn("is_high_speed_craft", F.lit(True)), "mmsi", "left")
    else:
        positions = positions.withColumn("is_high_speed_craft", F.lit(None).cast("boolean"))

    track = Window.partitionBy("mmsi").orderBy("event_time", "offset")
    before = track.rowsBetween(Window.unboundedPreceding, -1)
    after = track.rowsBetween(1, Window.unboundedFollowing)
    in_range = F.col("latitude").between(-90, 90) & F.col("longitude").between(-180, 180)

    def neighbour(column: str, frame, pick) -> Column:
        return pick(F.when(in_range, F.col(column)), ignorenulls=True).over(frame)

    def implied_kn(lat: Column, lon: Column, at: Column) -> tuple[Column, Column]:
        hop_nm = haversine_nm(lat, lon, F.col("latitude"), F.col("longitude"))
        hours = F.abs(F.col("event_time").cast("double") - at.cast("double")) / 3600.0
        too_fast = (hop_nm > rules.implied_speed_min_distance_nm) & (
            (hours == 0) | (hop_nm / hours > rules.max_implied_speed_kn))
        return too_fast, lat.isNotNull()

    from_prev, has_prev = implied_kn(*(neighbour(c, before, F.last) for c in ("latitude", "longitude", "event_time")))
    to_next, has_next = implied_kn(*(neighbour(c, after, F.first) for c in ("latitude", "longitude", "event_time")))
    # A teleport is a spike: too fast from the previous valid fix and to the next one, so
    # neither the fix before an outlier nor the one after it is blamed. One hop cannot
    # tell which end is wrong, so the first and last fix of a track are not judged.
    teleport = has_prev & has_next & from_prev & to_next

    checks: dict[str, Column] = {
        "unparseable_payload": F.col("event_type").isNull(),
        "mmsi_format": ~F.coalesce(F.col("mmsi").rlike("^[0-9]{9}$"), F.lit(False)),
        "latitude_range": F.col("latitude").isNotNull() & ~F.col("latitude").between(-90, 90),
        "longitude_range": F.col("longitude").isNotNull() & ~F.col("longitude").between(-180, 180),
        "sog_range": F.col("sog_kn").isNotNull() & ~F.col("sog_kn").between(0, rules.max_sog_kn),
        "implausible_speed": (F.col("sog_kn") > rules.implausible_sog_kn)
        & ~F.coalesce(F.col("is_high_speed_craft"), F.lit(False)),
        "event_time_in_future": F.col("event_time")
        > F.col("ingest_time") + F.expr(f"INTERVAL {rules.future_tolerance_minutes} MINUTES"),
        "event_time_too_old": F.col("event_time") < F.to_timestamp(F.lit(rules.earliest_event_time)),
        "teleport": in_range & teleport & ~F.coalesce(F.col("is_high_speed_craft"), F.lit(False)),
    }
    violations = F.filter(
        F.array(*[F.when(F.coalesce(check, F.lit(False)), F.lit(name)) for name, check in checks.items()]),
        lambda rule: rule.isNotNull(),
    )
    duplicate_key = Window.partitionBy("mmsi", "event_time", "msg_type").orderBy("partition", "offset")
    return (positions
            .withColumn("rule_violations", violations)
            .withColumn("mmsi_class", mmsi_class(F.col("mmsi")))
            .withColumn("event_date", F.to_date("event_time"))
            # Duplicates: same (MMSI, event time, message type); the earliest offset is kept.
            .withColumn("is_duplicate", F.when(F.col("event_type").isNull(), F.lit(False))
                        .otherwise(F.row_number().over(duplicate_key) > 1))
            .drop("is_high_speed_craft"))


SILVER_COLUMNS = (
    "mmsi", "event_time", "event_date", "msg_type", "ais_class", "mmsi_class", "latitude", "longitude", "sog_kn",
    "cog_deg", "heading_deg", "rot_deg_min", "nav_status", "position_accuracy", "utc_second", "station", "source",
    "partition", "offset", "ingest_time",
)


def extract(spark, bronze_path: str, start: datetime, end: datetime):
    """The Bronze slice that arrived in [start, end): late events are promoted by the run
    of the interval in which they arrived, whatever their event date."""
    from pyspark.sql import functions as F

    return (spark.read.format("delta").load(bronze_path)
            .where(F.col("ingest_date").between(F.lit(start.date()), F.lit(end.date())))
            .where((F.col("ingest_time") >= F.lit(start)) & (F.col("ingest_time") < F.lit(end))))


def high_speed_craft(bronze_slice):
    """MMSIs that declared ship type 40-49 (high-speed craft) in static data of the slice."""
    from pyspark.sql import functions as F

    static = bronze_slice.select(F.col("value").cast("string").alias("payload")).where(
        F.get_json_object("payload", "$.event_type") == "vessel_static")
    ship_type = F.get_json_object("payload", "$.ship_type").cast("int")
    return static.where(ship_type.between(40, 49)).select(F.get_json_object("payload", "$.mmsi").alias("mmsi"))


def load(spark, result, silver_root: str, stream_start: datetime) -> dict:
    """MERGE valid rows and quarantined rows by their keys; record the run's data quality.

    Every count is computed against the source offsets, so rerunning an interval writes
    the same rows and the same quality record again."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    result = result.cache()
    positions_path, quarantine_path, quality_path = (
        f"{silver_root}/ais_positions", f"{silver_root}/ais_positions_quarantine", f"{silver_root}/data_quality")
    valid = result.where((F.size("rule_violations") == 0) & ~F.col("is_duplicate")).select(*SILVER_COLUMNS)
    quarantined = result.where(F.size("rule_violations") > 0).select(
        "topic", "partition", "offset", "ingest_time", "payload", "rule_violations", "mmsi", "event_time",
        F.to_date("ingest_time").alias("ingest_date"))

    _ensure(spark, positions_path, valid, "event_date")
    _ensure(spark, quarantine_path, quarantined, "ingest_date")
    target = DeltaTable.forPath(spark, positions_path)
    existing = target.toDF().select("mmsi", "event_time", "msg_type",
                                    F.col("partition").alias("kept_partition"), F.col("offset").alias("kept_offset"))
    # A valid row whose key Silver already holds from another offset is a duplicate.
    seen = valid.join(existing, ["mmsi", "event_time", "msg_type"], "left")
    cross_run_duplicates = seen.where(F.col("kept_offset").isNotNull() & ~(
        (F.col("kept_offset") == F.col("offset")) & (F.col("kept_partition") == F.col("partition")))).count()
    (target.alias("t").merge(valid.alias("s"), "t.mmsi = s.mmsi AND t.event_time = s.event_time "
                                               "AND t.msg_type = s.msg_type AND t.event_date = s.event_date")
     .whenNotMatchedInsertAll().execute())
    (DeltaTable.forPath(spark, quarantine_path).alias("t")
     .merge(quarantined.alias("s"), "t.topic = s.topic AND t.partition = s.partition AND t.offset = s.offset")
     .whenNotMatchedInsertAll().execute())

    per_rule = {r["rule"]: r["count"] for r in
                quarantined.select(F.explode("rule_violations").alias("rule")).groupBy("rule").count().collect()}
    rows_in = result.count()
    n_quarantined = quarantined.count()
    in_slice_duplicates = result.where((F.size("rule_violations") == 0) & F.col("is_duplicate")).count()
    record = {
        "stream": "ais_positions",
        "interval_start": stream_start,
        "rows_in": rows_in,
        "valid": valid.count() - cross_run_duplicates,
        "quarantined": n_quarantined,
        "duplicates": in_slice_duplicates + cross_run_duplicates,
        "quarantined_per_rule": per_rule,
    }
    quality = spark.createDataFrame(
        [record], "stream string, interval_start timestamp, rows_in long, valid long, quarantined long, "
                  "duplicates long, quarantined_per_rule map<string,long>")
    _ensure(spark, quality_path, quality, None)
    (DeltaTable.forPath(spark, quality_path).alias("t")
     .merge(quality.alias("s"), "t.stream = s.stream AND t.interval_start = s.interval_start")
     .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())
    result.unpersist()
    return record


def _ensure(spark, path: str, frame, partition_column: str | None) -> None:
    """Create an empty table with the frame's schema once, so MERGE always has a target."""
    from delta.tables import DeltaTable

    if DeltaTable.isDeltaTable(spark, path):
        return
    writer = frame.limit(0).write.format("delta").mode("ignore")
    if partition_column:
        writer = writer.partitionBy(partition_column)
    writer.save(path)


def main(argv: list[str] | None = None) -> None:
    import argparse

    from maritimeiq.config import get_config
    from maritimeiq.spark import get_spark

    config = get_config()
    parser = argparse.ArgumentParser(description="Promote one interval of Bronze AIS data to Silver.")
    parser.add_argument("--start", required=True, type=_utc, help="interval start (ISO 8601, UTC)")
    parser.add_argument("--end", required=True, type=_utc, help="interval end, exclusive")
    parser.add_argument("--bronze", default=config.lake.table_path("bronze", "maritime_ais_data"))
    parser.add_argument("--silver-root", default=f"{config.lake.root.rstrip('/')}/silver")
    args = parser.parse_args(argv)
    spark = get_spark("silver-ais", config=config)
    bronze_slice = extract(spark, args.bronze, args.start, args.end)
    record = load(spark, transform(bronze_slice, AisRules(), high_speed_craft(bronze_slice)), args.silver_root,
                  args.start)
    print(f"silver.ais_positions {args.start:%Y-%m-%dT%H:%M}Z..{args.end:%Y-%m-%dT%H:%M}Z: {record}")


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


if __name__ == "__main__":
    main()
