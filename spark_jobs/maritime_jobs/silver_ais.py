"""Bronze → Silver for AIS positions: parse, validate by named rules, tag MMSI classes,
drop duplicates.

The transform is pure: Bronze rows of `maritime.ais.data` in, one row per position
event out with `rule_violations` (empty when valid) and `is_duplicate`. Loading splits
them into Silver, quarantine and the duplicate count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from maritime_jobs.harness import job_parser, start_job
from maritime_jobs.silver_common import (
    SilverTable,
    TimeRules,
    alert_on_quality,
    envelope_checks,
    extract,
    load,
    parse,
    violations,
)
from maritimeiq import catalog
from maritimeiq.geo import EARTH_RADIUS_KM, KM_PER_NM
from maritimeiq.geo import haversine_nm as haversine_nm_py
from maritimeiq.spark import get_spark

if TYPE_CHECKING:
    import pandas as pd

# Chains of mutually consistent fixes a vessel's fix may still join; a chain that has not
# grown for this many newer chains is closed (bounds the work per fix on noisy tracks).
MAX_OPEN_CHAINS = 8
TRACK_ORDER = ("event_time", "msg_type", "partition", "offset")


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
    time: TimeRules = field(default_factory=TimeRules)


def mmsi_class(mmsi: Column) -> Column:
    """ITU-R M.585 MMSI classes; ship stations have a MID of 201-775 as first digits."""
    mid = mmsi.substr(1, 3).cast("int")
    return (
        F.when(~F.coalesce(mmsi.rlike("^[0-9]{9}$"), F.lit(False)), F.lit(None))
        .when(mmsi.startswith("00"), "coast_station")
        .when(mmsi.startswith("111"), "sar_aircraft")
        .when(mmsi.startswith("970"), "ais_sart")
        .when(mmsi.startswith("972"), "man_overboard")
        .when(mmsi.startswith("974"), "epirb_ais")
        .when(mmsi.startswith("98"), "craft_of_parent_ship")
        .when(mmsi.startswith("99"), "aid_to_navigation")
        .when(mid.between(201, 775), "ship")
        .otherwise("other")
    )


def haversine_nm(lat1: Column, lon1: Column, lat2: Column, lon2: Column) -> Column:
    p1, p2 = F.radians(lat1), F.radians(lat2)
    dp, dl = p2 - p1, F.radians(lon2 - lon1)
    root = F.sqrt(F.sin(dp / 2) ** 2 + F.cos(p1) * F.cos(p2) * F.sin(dl / 2) ** 2)
    # Clamp rounding above 1; `least` would skip a null and turn a missing point into a distance.
    return 2 * EARTH_RADIUS_KM * F.asin(F.when(root > 1.0, F.lit(1.0)).otherwise(root)) / KM_PER_NM


def implied_speed_outliers(
    seconds: Sequence[float], lats: Sequence[float], lons: Sequence[float], rules: AisRules = AisRules()
) -> list[bool]:
    """One vessel's fixes in time order → True for each fix too fast from the last accepted fix.

    Each fix is judged against the last fix accepted before it, not its raw neighbours,
    so a run of bad fixes cannot vouch for itself (AISdb, MovingPandas' OutlierCleaner).
    Those cleaners accept the first fix; here the track is anchored on the first fix of the
    longest chain of mutually consistent fixes (GFW segmenter's idea), so a bad first fix
    does not condemn the good ones after it. Fixes before the anchor are judged walking
    backwards from it. When no two fixes agree (every chain has one fix), one hop cannot
    tell which end is wrong and nothing is flagged; of equally long chains the earliest wins.
    """
    count = len(seconds)

    def too_fast(a: int, b: int) -> bool:
        hop_nm = haversine_nm_py(lats[a], lons[a], lats[b], lons[b])
        hours = abs(seconds[b] - seconds[a]) / 3600.0
        return hop_nm > rules.implied_speed_min_distance_nm and (
            hours == 0 or hop_nm / hours > rules.max_implied_speed_kn
        )

    chains: list[list[int]] = []
    open_chains: list[int] = []  # least recently extended first
    for fix in range(count):
        fits = [c for c in open_chains if not too_fast(chains[c][-1], fix)]
        if fits:
            chain = max(fits, key=lambda c: (len(chains[c]), -c))  # longest, then earliest
            open_chains.remove(chain)
        else:
            chain = len(chains)
            chains.append([])
        chains[chain].append(fix)
        open_chains.append(chain)
        del open_chains[:-MAX_OPEN_CHAINS]
    flags = [False] * count
    longest = max((len(c) for c in chains), default=0)
    if longest < 2:
        return flags
    anchor = next(c for c in chains if len(c) == longest)[0]
    for walk in (range(anchor + 1, count), range(anchor - 1, -1, -1)):
        accepted = anchor
        for fix in walk:
            if too_fast(accepted, fix):
                flags[fix] = True
            else:
                accepted = fix
    return flags


TELEPORT_FLAGS = "topic string, partition int, offset long, teleport boolean"


def _vessel_teleports(track: pd.DataFrame, rules: AisRules) -> pd.DataFrame:
    """applyInPandas body: the fixes of one MMSI → (topic, partition, offset, teleport)."""
    track = track.sort_values(list(TRACK_ORDER), kind="stable")
    flags = implied_speed_outliers(
        track["seconds"].tolist(), track["latitude"].tolist(), track["longitude"].tolist(), rules
    )
    return track[["topic", "partition", "offset"]].assign(teleport=flags)


def transform(
    bronze: DataFrame,
    rules: AisRules = AisRules(),
    high_speed_mmsis: DataFrame | None = None,
    keep_payload: bool = True,
) -> DataFrame:
    """Bronze AIS rows → position events with `rule_violations` and `is_duplicate`.

    `high_speed_mmsis` (column `mmsi`) lists craft allowed above the implausible-speed
    limit (ship types 40-49 from vessel static data). Without `keep_payload` the raw JSON
    is left behind, which keeps the per-vessel sort small on large slices; `load` then
    joins it back for quarantined rows only.
    """
    positions = parse(bronze, "ais_position", owns_unparseable=True, keep_payload=keep_payload)
    if high_speed_mmsis is not None:
        positions = positions.join(
            F.broadcast(high_speed_mmsis.select("mmsi").distinct().withColumn("is_high_speed_craft", F.lit(True))),
            "mmsi",
            "left",
        )
    else:
        positions = positions.withColumn("is_high_speed_craft", F.lit(None).cast("boolean"))

    # The implied-speed check is sequential (each fix against the last accepted one): one
    # pandas group per vessel, in the order used before, over fixes with a usable position;
    # listed high-speed craft stay exempt. A slice is judged on its own, as before: a vessel's
    # first and last fixes in it are judged against the fixes accepted within it.
    in_range = F.col("latitude").between(-90, 90) & F.col("longitude").between(-180, 180)
    not_fast_craft = ~F.coalesce(F.col("is_high_speed_craft"), F.lit(False))
    track = positions.where(in_range & F.col("mmsi").isNotNull() & not_fast_craft).select(
        "mmsi", *TRACK_ORDER, "topic", "latitude", "longitude", F.col("event_time").cast("double").alias("seconds")
    )

    def vessel_teleports(fixes):  # no type hints: Spark would try to resolve them
        return _vessel_teleports(fixes, rules)

    flags = track.groupBy("mmsi").applyInPandas(vessel_teleports, TELEPORT_FLAGS)
    # (topic, partition, offset) names one Bronze row, as `load` relies on too.
    columns = positions.columns
    positions = positions.join(flags, ["topic", "partition", "offset"], "left").select(*columns, "teleport")

    checks: dict[str, Column] = {
        **envelope_checks("ais_position", rules.time),
        "latitude_range": F.col("latitude").isNotNull() & ~F.col("latitude").between(-90, 90),
        "longitude_range": F.col("longitude").isNotNull() & ~F.col("longitude").between(-180, 180),
        "sog_range": F.col("sog_kn").isNotNull() & ~F.col("sog_kn").between(0, rules.max_sog_kn),
        "implausible_speed": (F.col("sog_kn") > rules.implausible_sog_kn) & not_fast_craft,
        "teleport": F.coalesce(F.col("teleport"), F.lit(False)),
    }
    # Duplicates: same (MMSI, event time, message type); the earliest valid offset is kept.
    # Valid rows sort first within a key, so a valid row after its key is a duplicate.
    valid = F.size("rule_violations") == 0
    by_key = Window.partitionBy("mmsi").orderBy("event_time", "msg_type", (~valid).cast("int"), "partition", "offset")
    same_key_before = (F.lag("event_time").over(by_key) == F.col("event_time")) & (
        F.lag("msg_type").over(by_key) == F.col("msg_type")
    )
    return (
        positions.withColumn("rule_violations", violations(checks))
        .withColumn("mmsi_class", mmsi_class(F.col("mmsi")))
        .withColumn("event_date", F.to_date("event_time"))
        .withColumn("is_duplicate", valid & F.coalesce(same_key_before, F.lit(False)))
        .drop("is_high_speed_craft", "teleport")
    )


SILVER_COLUMNS = (
    "mmsi",
    "event_time",
    "event_date",
    "msg_type",
    "ais_class",
    "mmsi_class",
    "latitude",
    "longitude",
    "sog_kn",
    "cog_deg",
    "heading_deg",
    "rot_deg_min",
    "nav_status",
    "position_accuracy",
    "utc_second",
    "station",
    "source",
    "partition",
    "offset",
    "ingest_time",
)


def high_speed_craft(bronze_slice: DataFrame, lake_root: str | None = None) -> DataFrame:
    """MMSIs declaring ship type 40-49 (high-speed craft): in static data of the slice,
    and in the current Silver static data when a lake root is given."""
    static = bronze_slice.select(F.col("value").cast("string").alias("payload")).where(
        F.get_json_object("payload", "$.event_type") == "vessel_static"
    )
    ship_type = F.get_json_object("payload", "$.ship_type").cast("int")
    craft = static.where(ship_type.between(40, 49)).select(F.get_json_object("payload", "$.mmsi").alias("mmsi"))
    history = catalog.SILVER_VESSEL_STATIC.path(lake_root) if lake_root else None
    if history and DeltaTable.isDeltaTable(bronze_slice.sparkSession, history):
        known = bronze_slice.sparkSession.read.format("delta").load(history)
        craft = craft.unionByName(known.where(F.col("is_current") & F.col("ship_type").between(40, 49)).select("mmsi"))
    return craft


POSITIONS = SilverTable(catalog.SILVER_AIS_POSITIONS, columns=SILVER_COLUMNS)


def promote(
    spark, bronze_slice: DataFrame, lake_root: str, interval_start: datetime, rules: AisRules = AisRules()
) -> dict:
    """Transform and load one Bronze slice; the quality record of the interval."""
    result = transform(bronze_slice, rules, high_speed_craft(bronze_slice, lake_root), keep_payload=False)
    payloads = bronze_slice.select(
        "topic", "partition", "offset", bronze_slice["value"].cast("string").alias("payload")
    )
    return load(spark, result, lake_root, POSITIONS, interval_start, payloads=payloads)


def main(argv: list[str] | None = None) -> None:
    args = job_parser("Promote one interval of Bronze AIS data to Silver.", interval="time").parse_args(argv)
    log = start_job(args, "silver_ais")
    spark = get_spark("silver-ais")
    bronze = extract(spark, catalog.bronze_table(catalog.AIS_TOPIC).path(args.lake_root), args.start, args.end)
    record = promote(spark, bronze, args.lake_root, args.start)
    alert_on_quality([record], task_id="promote_ais_positions")
    log.info("silver.ais_positions %s..%s: %s", f"{args.start:%Y-%m-%dT%H:%M}Z", f"{args.end:%Y-%m-%dT%H:%M}Z", record)


if __name__ == "__main__":
    main()
