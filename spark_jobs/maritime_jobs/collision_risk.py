"""Gold `collision_alerts`: CPA/TCPA between ships in proximity, from Silver positions.

Per 1-minute bucket each ship's latest fix is kept; ships within `range_nm` of each other
are paired through a grid (each fix probes its own and the eight neighbouring cells, an
equi-join instead of a cartesian product), both fixes of a pair are dead-reckoned to the
later of their two times, and CPA/TCPA follow the ARPA definition in `maritimeiq.cpa`.
A pair is a collision risk when DCPA < 0.5 nm and 0 ≤ TCPA ≤ 20 min; each risky pair and
bucket is one Gold row, and the first bucket of each run of consecutive risky buckets is
published as a P2 `alert` event (`--publish`), keyed by a deterministic `alert_id`.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Producer
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from maritime_jobs.harness import job_parser, replace_range, start_job
from maritimeiq import catalog
from maritimeiq.config import get_config
from maritimeiq.cpa import ALERT_DCPA_NM, ALERT_TCPA_MIN, EARTH_RADIUS_NM
from maritimeiq.events import make_event
from maritimeiq.spark import get_spark

MAX_CELL_LATITUDE = 89.0  # cells stay finite near the poles
ENCOUNTER_COLUMNS = (
    "bucket_date",
    "bucket_time",
    "mmsi_a",
    "mmsi_b",
    "reference_time",
    "time_a",
    "latitude_a",
    "longitude_a",
    "sog_kn_a",
    "cog_deg_a",
    "time_b",
    "latitude_b",
    "longitude_b",
    "sog_kn_b",
    "cog_deg_b",
    "range_nm",
    "tcpa_min",
    "dcpa_nm",
    "cpa_time",
)


@dataclass(frozen=True)
class RiskParams:
    range_nm: float = 6.0
    max_dcpa_nm: float = ALERT_DCPA_NM
    max_tcpa_min: float = ALERT_TCPA_MIN

    @property
    def band_deg(self) -> float:
        """Latitude band height: the pairing range as an arc of a meridian."""
        return math.degrees(self.range_nm / EARTH_RADIUS_NM)


def latest_fixes(positions: DataFrame) -> DataFrame:
    """The latest usable fix of each ship per UTC minute: ship stations only (ITU-R M.585
    MID 201-775), with position, SOG and COG available (ITU-R M.1371 "not available" is null)."""
    usable = positions.where(
        (F.col("mmsi_class") == "ship")
        & F.col("latitude").isNotNull()
        & F.col("longitude").isNotNull()
        & F.col("sog_kn").isNotNull()
        & F.col("cog_deg").isNotNull()
    )
    # Ties on time are broken by Kafka coordinates so reruns pick the same fix.
    latest = F.max_by(
        F.struct("event_time", "latitude", "longitude", "sog_kn", "cog_deg"),
        F.struct("event_time", "partition", "offset"),
    )
    return (
        usable.groupBy("mmsi", F.date_trunc("minute", "event_time").alias("bucket_time"))
        .agg(latest.alias("fix"))
        .select("mmsi", "bucket_time", "fix.*")
    )


def _cells_in_band(band: Column, params: RiskParams) -> Column:
    """Equal longitude cells of a band, each at least as wide as `range_nm` at the poleward
    edge of the next band out: a pair in range then lies in the same or adjacent cells,
    whichever of the neighbouring bands its mean latitude falls in."""
    step = params.band_deg
    edge = F.least(F.greatest(F.abs(band * step), F.abs((band + 1) * step)) + step, F.lit(MAX_CELL_LATITUDE))
    return F.greatest(F.lit(1), F.floor(360.0 * F.cos(F.radians(edge)) / step).cast("long"))


def _cell(longitude: Column, cells: Column) -> Column:
    return F.pmod(F.floor((longitude + 180.0) * cells / 360.0).cast("long"), cells)


def _wrap(delta_deg: Column) -> Column:
    return F.pmod(delta_deg + 180.0, F.lit(360.0)) - 180.0


def _dead_reckon(side: str, hours: Column) -> tuple[Column, Column]:
    """Latitude and longitude of fix `side` after `hours` on its course and speed."""
    east, north = _velocity(side)
    latitude = F.col(f"latitude_{side}") + F.degrees(north * hours / EARTH_RADIUS_NM)
    longitude = F.col(f"longitude_{side}") + F.degrees(
        east * hours / (EARTH_RADIUS_NM * F.cos(F.radians(F.col(f"latitude_{side}"))))
    )
    return latitude, _wrap(longitude)


def _velocity(side: str) -> tuple[Column, Column]:
    course = F.radians(F.col(f"cog_deg_{side}"))
    return F.col(f"sog_kn_{side}") * F.sin(course), F.col(f"sog_kn_{side}") * F.cos(course)


def encounters(positions: DataFrame, params: RiskParams = RiskParams()) -> DataFrame:
    """Every unordered pair of ships within `range_nm` in the same minute, with CPA/TCPA."""
    step = params.band_deg
    fixes = latest_fixes(positions).withColumn("band", F.floor(F.col("latitude") / step).cast("long"))
    homes = fixes.withColumn("cell", _cell(F.col("longitude"), _cells_in_band(F.col("band"), params)))
    steps = F.array(F.lit(-1), F.lit(0), F.lit(1))
    probe_band = F.col("band") + F.col("band_step")
    probe_cells = _cells_in_band(probe_band, params)
    # In narrow polar bands the three cells can coincide: each probe cell once.
    probes = (
        fixes.select("*", F.explode(steps).alias("band_step"))
        .select("*", F.explode(steps).alias("cell_step"))
        .select(
            "mmsi",
            "bucket_time",
            "event_time",
            "latitude",
            "longitude",
            "sog_kn",
            "cog_deg",
            probe_band.alias("band"),
            F.pmod(_cell(F.col("longitude"), probe_cells) + F.col("cell_step"), probe_cells).alias("cell"),
        )
        .dropDuplicates(["mmsi", "bucket_time", "band", "cell"])
    )

    def side(frame: DataFrame, suffix: str) -> DataFrame:
        return frame.select(
            *(
                F.col(c).alias(f"{c}_{suffix}")
                for c in ("mmsi", "event_time", "latitude", "longitude", "sog_kn", "cog_deg")
            ),
            "bucket_time",
            "band",
            "cell",
        )

    pairs = (
        side(probes, "a")
        .join(side(homes, "b"), ["bucket_time", "band", "cell"])
        .where(F.col("mmsi_a") < F.col("mmsi_b"))
        .withColumnRenamed("event_time_a", "time_a")
        .withColumnRenamed("event_time_b", "time_b")
    )

    # Both fixes are moved to the later of their two times, so the geometry is simultaneous.
    reference = F.greatest("time_a", "time_b")
    lat_a, lon_a = _dead_reckon("a", (reference.cast("double") - F.col("time_a").cast("double")) / 3600.0)
    lat_b, lon_b = _dead_reckon("b", (reference.cast("double") - F.col("time_b").cast("double")) / 3600.0)
    mean_lat = F.radians((lat_a + lat_b) / 2)
    px = F.radians(_wrap(lon_b - lon_a)) * F.cos(mean_lat) * EARTH_RADIUS_NM
    py = F.radians(lat_b - lat_a) * EARTH_RADIUS_NM
    (vxa, vya), (vxb, vyb) = _velocity("a"), _velocity("b")
    geometry = pairs.select(
        "*",
        reference.alias("reference_time"),
        px.alias("px"),
        py.alias("py"),
        (vxb - vxa).alias("vx"),
        (vyb - vya).alias("vy"),
    )

    # ARPA CPA (IMO Res. A.823(19); DOMAIN.md): TCPA = −(p·v)/|v|², DCPA = |p + v·TCPA|;
    # with no relative motion the range is constant, so TCPA is undefined and DCPA = range.
    speed_sq = F.col("vx") ** 2 + F.col("vy") ** 2
    tcpa_h = F.when(speed_sq > 0, -(F.col("px") * F.col("vx") + F.col("py") * F.col("vy")) / speed_sq)
    range_nm = F.sqrt(F.col("px") ** 2 + F.col("py") ** 2)
    dcpa = F.coalesce(
        F.sqrt((F.col("px") + F.col("vx") * F.col("tcpa_h")) ** 2 + (F.col("py") + F.col("vy") * F.col("tcpa_h")) ** 2),
        F.col("range_nm"),
    )
    return (
        geometry.withColumn("tcpa_h", tcpa_h)
        .withColumn("range_nm", range_nm)
        .where(F.col("range_nm") <= params.range_nm)
        .withColumn("dcpa_nm", dcpa)
        .withColumn("tcpa_min", F.col("tcpa_h") * 60.0)
        .withColumn("cpa_time", F.timestamp_seconds(F.col("reference_time").cast("double") + F.col("tcpa_h") * 3600.0))
        .withColumn("bucket_date", F.to_date("bucket_time"))
        .select(*ENCOUNTER_COLUMNS)
    )


def transform(positions: DataFrame, params: RiskParams = RiskParams()) -> DataFrame:
    """Risky encounters with their `alert_id` and whether they open a run of risky minutes."""
    risky = encounters(positions, params).where(
        (F.col("dcpa_nm") < params.max_dcpa_nm) & F.col("tcpa_min").between(0, params.max_tcpa_min)
    )
    pair = Window.partitionBy("mmsi_a", "mmsi_b").orderBy("bucket_time")
    continues = F.lag("bucket_time").over(pair) == F.col("bucket_time") - F.expr("INTERVAL 1 MINUTE")
    return risky.withColumn("alert_id", alert_id(F.col("mmsi_a"), F.col("mmsi_b"), F.col("bucket_time"))).withColumn(
        "is_onset", ~F.coalesce(continues, F.lit(False))
    )


def alert_id(mmsi_a: Column, mmsi_b: Column, bucket_time: Column) -> Column:
    """Deterministic id of a pair's alert in one minute: consumers deduplicate on it."""
    key = F.concat_ws("|", mmsi_a, mmsi_b, F.date_format(bucket_time, "yyyy-MM-dd'T'HH:mm'Z'"))
    return F.substring(F.sha2(key, 256), 1, 32)


def alert_event(row: Any, dag_id: str | None = None, task_id: str | None = None) -> dict[str, Any]:
    """The `alert` event (events.py) of one Gold alert row."""
    cpa = f"{row.cpa_time:%H:%M:%S}Z" if row.cpa_time is not None else "unknown"
    return make_event(
        "alert",
        "spark:collision_risk",
        row.bucket_time,
        alert_id=row.alert_id,
        severity="P2",
        mmsi=row.mmsi_a,
        dag_id=dag_id,
        task_id=task_id,
        title=f"Collision risk: {row.mmsi_a} and {row.mmsi_b}",
        detail=(
            f"DCPA {row.dcpa_nm:.2f} nm, TCPA {row.tcpa_min:.1f} min (CPA at {cpa}); range "
            f"{row.range_nm:.2f} nm at {row.latitude_a:.4f}, {row.longitude_a:.4f}; other vessel {row.mmsi_b}"
        ),
    )


def publish(rows: list, producer: Any, topic: str, dag_id: str | None = None, task_id: str | None = None) -> int:
    """Send one alert event per row, keyed by `alert_id`; raise if any delivery failed."""
    failures: list[str] = []

    def delivered(error, message) -> None:
        if error is not None:
            failures.append(f"{message.key()!r}: {error}")

    for row in rows:
        producer.produce(
            topic, key=row.alert_id, value=json.dumps(alert_event(row, dag_id, task_id)), on_delivery=delivered
        )
        producer.poll(0)
    producer.flush()
    if failures:
        raise RuntimeError(f"{len(failures)} of {len(rows)} alerts not delivered to {topic}: {failures[:5]}")
    return len(rows)


def extract(spark, lake_root: str, start: datetime, end: datetime) -> DataFrame:
    return (
        spark.read.format("delta")
        .load(catalog.SILVER_AIS_POSITIONS.path(lake_root))
        .where(F.col("event_date").between(F.lit(start.date()), F.lit(end.date())))
        .where((F.col("event_time") >= F.lit(start)) & (F.col("event_time") < F.lit(end)))
    )


def _as_utc(moment: datetime) -> datetime:
    """Aware UTC (naive means UTC), so Spark literals do not depend on the host's time zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def run(
    spark,
    lake_root: str,
    start: datetime,
    end: datetime,
    params: RiskParams = RiskParams(),
    producer: Any = None,
    topic: str = catalog.ALERTS_TOPIC,
    dag_id: str | None = None,
    task_id: str | None = None,
) -> tuple[int, int]:
    """Compute and store the interval's alerts, replacing exactly its buckets; publish their
    onsets when given a producer. Returns (alert rows, events published)."""
    if start.second or start.microsecond or end.second or end.microsecond:
        raise ValueError(f"interval [{start}, {end}) must start and end on whole minutes (1-minute buckets)")
    start, end = _as_utc(start), _as_utc(end)
    alerts = transform(extract(spark, lake_root, start, end), params)
    replace_range(alerts, catalog.GOLD_COLLISION_ALERTS, lake_root, "bucket_time", start, end)
    written = (
        spark.read.format("delta")
        .load(catalog.GOLD_COLLISION_ALERTS.path(lake_root))
        .where((F.col("bucket_time") >= F.lit(start)) & (F.col("bucket_time") < F.lit(end)))
    )
    sent = 0
    if producer is not None:
        onsets = written.where("is_onset").orderBy("bucket_time", "mmsi_a", "mmsi_b").collect()
        sent = publish(onsets, producer, topic, dag_id, task_id)
    return written.count(), sent


def main(argv: list[str] | None = None) -> None:
    parser = job_parser(__doc__.splitlines()[0], interval="time")
    parser.add_argument("--range-nm", type=float, default=RiskParams.range_nm, help="pairing range")
    parser.add_argument(
        "--publish",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"send alert onsets to {catalog.ALERTS_TOPIC}",
    )
    parser.add_argument("--dag-id")
    parser.add_argument("--task-id")
    args = parser.parse_args(argv)
    log = start_job(args, "collision_risk")
    producer = Producer(get_config().kafka.client_config()) if args.publish else None
    rows, sent = run(
        get_spark("collision-risk"),
        args.lake_root,
        args.start,
        args.end,
        RiskParams(range_nm=args.range_nm),
        producer,
        catalog.ALERTS_TOPIC,
        args.dag_id,
        args.task_id,
    )
    log.info(
        "gold.collision_alerts %s..%s: %d risky pair-minutes, %d alerts published",
        f"{args.start:%Y-%m-%dT%H:%M}Z",
        f"{args.end:%Y-%m-%dT%H:%M}Z",
        rows,
        sent,
    )


if __name__ == "__main__":
    main()
