"""Gold port calls, voyages and route schedule adherence from Silver AIS positions.

Port visits follow Global Fishing Watch's `pipe-anchorages` state machine (DOMAIN.md,
"Cleaning, segments, port calls"), run per MMSI over time-ordered fixes:

* a visit begins at the first fix within 3.0 km of a port and ends at the first fix
  4.0 km or more from every port (hysteresis: between 3 and 4 km the state is kept);
* inside a visit the vessel is stopped from a fix at <= 0.2 kn until a fix at >= 0.5 kn;
* a silence of 4 h or more while in port marks the visit (`has_gap_4h`), as does, for a
  visit still open when the data ends, 4 h or more from its last fix to that end.

Each visit gets GFW's confidence from the events it holds: 4 = entry, a stop or a gap,
and exit; 3 = a stop or a gap with entry or exit; 2 = a stop or a gap only; 1 = entry
and/or exit only (a ship sailing past within 3 km). As in GFW, a vessel's first fix
has no state before it, so being in port or stopped there is no entry or stop begin;
a visit left with no event at all is no visit.

A visit's port is the one the vessel came closest to during it (the berth, not the port
first passed). A voyage runs from one visit's departure to the next visit's arrival of
the same MMSI, counting only visits of at least `min_visit_confidence` (3, GFW's voyages
default), so a pass-by does not split it; its distance is the haversine sum
(R = 6371.0088 km) of the hops between the Silver fixes from departure to arrival.

Schedules come from Silver `voyage_events`: a voyage takes the arrival event of the same
MMSI at its destination whose reported time (actual, else event time) is nearest its AIS
arrival, within `match_tolerance_hours` (6 h). The arrival counts as delayed when the
reported actual arrival (the AIS arrival when the event has none) is more than
`delay_tolerance_hours` after the scheduled one; without a matching event `is_delayed`
is null, and such voyages are left out of delay rates.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from maritime_jobs.harness import job_parser, replace_range, start_job
from maritime_jobs.silver_ais import haversine_nm
from maritimeiq import catalog
from maritimeiq.geo import KM_PER_NM
from maritimeiq.spark import get_spark

JOB = "voyage_analytics"
log = logging.getLogger(f"maritime.{JOB}")

# GFW pipe-anchorages port visits (DOMAIN.md): entry/exit radii, stop speeds, port gap.
ENTRY_KM = 3.0
EXIT_KM = 4.0
STOP_BEGIN_KN = 0.2
STOP_END_KN = 0.5
PORT_GAP_HOURS = 4.0
# GFW `confidence_voyages`: voyages between visits of confidence >= 3 by default.
MIN_VISIT_CONFIDENCE = 3
# Nearest-port prefilter: 1° cells, a port joined to its cell and the eight around it. A
# degree of longitude is at least EXIT_KM wide below 88° of latitude, where all ports are.
GRID_DEG = 1.0
ROLLING_DAYS = 7

VISIT_COLUMNS = (
    "mmsi",
    "unlocode",
    "port_name",
    "arrival_time",
    "departure_time",
    "stop_hours",
    "has_gap_4h",
    "confidence",
    "positions",
    "arrival_odometer_nm",
    "departure_odometer_nm",
)
VISIT_SCHEMA = (
    "mmsi string, unlocode string, port_name string, arrival_time timestamp, departure_time timestamp, "
    "stop_hours double, has_gap_4h boolean, confidence int, positions long, arrival_odometer_nm double, "
    "departure_odometer_nm double"
)
VOYAGE_EVENT_SCHEMA = (
    "mmsi string, event_time timestamp, kind string, port_unlocode string, "
    "scheduled_time timestamp, actual_time timestamp, partition long, offset long"
)


@dataclass(frozen=True)
class VoyageParams:
    """Departure days [start, end) and the matching rules."""

    start: date
    end: date
    lookback_days: int = 3
    delay_tolerance_hours: float = 1.0
    match_tolerance_hours: float = 6.0
    min_visit_confidence: int = MIN_VISIT_CONFIDENCE

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def visit_confidence(entry: bool, stop: bool, gap: bool, exit_: bool) -> int | None:
    """GFW `pipe-anchorages` port-visit confidence; None when the visit has no event."""
    if stop or gap:
        return 4 if entry and exit_ else 3 if entry or exit_ else 2
    return 1 if entry or exit_ else None


def port_visits(track: pd.DataFrame, data_end: datetime | None = None) -> pd.DataFrame:
    """One vessel's fixes → its port visits (the GFW state machine described above).

    In: `mmsi`, `event_time`, `offset`, `sog_kn`, `unlocode`, `port_name`, `port_km`
    (distance to the nearest port, null when none is within EXIT_KM) and `odometer_nm`
    (distance sailed so far); `data_end`, the last instant the data covers (None: the
    last fix). Out: VISIT_COLUMNS; `departure_time` is null for a visit still open at
    the last fix. Time between two fixes of a visit counts as stopped when the earlier
    fix was stopped, as GFW ends a stop at the fix that shows movement.
    """
    visits: list[dict] = []
    visit: dict | None = None
    previous = None
    for fix in track.sort_values(["event_time", "offset"], kind="stable").itertuples(index=False):
        km = None if pd.isna(fix.port_km) else float(fix.port_km)
        if visit is not None:
            hours = (fix.event_time - previous).total_seconds() / 3600.0
            visit["has_gap_4h"] |= hours >= PORT_GAP_HOURS
            if visit["stopped"]:
                visit["stop_hours"] += hours
            if km is None or km >= EXIT_KM:
                # GFW: leaving while stopped is a stop end as well as the exit.
                visits.append(
                    {
                        **visit,
                        "has_stop": visit["has_stop"] or visit["stopped"],
                        "has_exit": True,
                        "departure_time": fix.event_time,
                        "departure_odometer_nm": fix.odometer_nm,
                    }
                )
                visit = None
        elif km is not None and km <= ENTRY_KM:
            # GFW: the first fix has no state before it, so it is no port entry.
            visit = {
                "mmsi": fix.mmsi,
                "arrival_time": fix.event_time,
                "arrival_odometer_nm": fix.odometer_nm,
                "positions": 0,
                "stop_hours": 0.0,
                "has_gap_4h": False,
                "stopped": False,
                "has_entry": previous is not None,
                "has_stop": False,
                "has_exit": False,
                "closest": (km, fix.unlocode, fix.port_name),
            }
        if visit is not None:
            visit["positions"] += 1
            if km is not None and (km, fix.unlocode) < visit["closest"][:2]:
                visit["closest"] = (km, fix.unlocode, fix.port_name)
            if not pd.isna(fix.sog_kn):  # an unknown speed keeps the state
                was_stopped = visit["stopped"]
                if fix.sog_kn <= STOP_BEGIN_KN:
                    visit["stopped"] = True
                elif fix.sog_kn >= STOP_END_KN:
                    visit["stopped"] = False
                # A stop begin or end event (GFW), except at the first fix.
                visit["has_stop"] |= previous is not None and visit["stopped"] != was_stopped
        previous = fix.event_time
    if visit is not None:
        # GFW: a visit open at the end of the data has a port gap once that end is 4 h past its last fix.
        trailing_h = 0.0 if data_end is None else (pd.Timestamp(data_end) - previous).total_seconds() / 3600.0
        visits.append(
            {
                **visit,
                "has_gap_4h": visit["has_gap_4h"] or trailing_h >= PORT_GAP_HOURS,
                "departure_time": pd.NaT,
                "departure_odometer_nm": None,
            }
        )
    rows = [
        {
            **v,
            "unlocode": v["closest"][1],
            "port_name": v["closest"][2],
            "confidence": visit_confidence(v["has_entry"], v["has_stop"], v["has_gap_4h"], v["has_exit"]),
        }
        for v in visits
    ]
    # GFW makes visits out of events: a visit with none (in port from the first fix, never
    # stopping, gapping or leaving) is none.
    rows = [row for row in rows if row["confidence"] is not None]
    return pd.DataFrame(rows, columns=list(VISIT_COLUMNS))


def _cell_lon(cell: Column) -> Column:
    return F.pmod(cell + 180, 360) - 180  # one grid across the antimeridian


def nearest_ports(positions: DataFrame, ports: DataFrame) -> DataFrame:
    """Ship fixes with `odometer_nm` and the nearest port within EXIT_KM (`unlocode`,
    `port_name`, `port_km`; null when there is none)."""
    # Ship stations only (ITU-R M.585): base stations and aids to navigation sit in ports.
    fixes = positions.where(
        F.col("latitude").isNotNull() & F.col("longitude").isNotNull() & (F.col("mmsi_class") == "ship")
    )
    track = Window.partitionBy("mmsi").orderBy("event_time", "offset")
    hop = haversine_nm(
        F.lag("latitude").over(track), F.lag("longitude").over(track), F.col("latitude"), F.col("longitude")
    )
    fix_columns = ["mmsi", "event_time", "msg_type", "offset", "latitude", "longitude", "sog_kn"]
    fixes = fixes.select(
        *fix_columns,
        F.sum(F.coalesce(hop, F.lit(0.0)))
        .over(track.rowsBetween(Window.unboundedPreceding, Window.currentRow))
        .alias("odometer_nm"),
    )

    neighbours = F.array(
        *[F.struct(F.lit(dy).alias("dy"), F.lit(dx).alias("dx")) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    )
    grid = ports.select(
        "unlocode",
        F.col("name").alias("port_name"),
        F.col("latitude").alias("port_lat"),
        F.col("longitude").alias("port_lon"),
        F.explode(neighbours).alias("cell"),
    ).select(
        "unlocode",
        "port_name",
        "port_lat",
        "port_lon",
        (F.floor(F.col("port_lat") / GRID_DEG) + F.col("cell.dy")).alias("cell_lat"),
        _cell_lon(F.floor(F.col("port_lon") / GRID_DEG) + F.col("cell.dx")).alias("cell_lon"),
    )
    candidates = fixes.join(
        F.broadcast(grid),
        (F.floor(fixes.latitude / GRID_DEG) == grid.cell_lat)
        & (_cell_lon(F.floor(fixes.longitude / GRID_DEG)) == grid.cell_lon),
        "left",
    )
    km = haversine_nm(F.col("latitude"), F.col("longitude"), F.col("port_lat"), F.col("port_lon")) * KM_PER_NM
    # Smallest struct = nearest port; ties go to the lower UN/LOCODE so reruns agree.
    near = F.when(km <= EXIT_KM, F.struct(km.alias("port_km"), F.col("unlocode"), F.col("port_name")))
    return (
        candidates.groupBy(*fix_columns, "odometer_nm")
        .agg(F.min(near).alias("near"))
        .select(*fix_columns, "odometer_nm", "near.unlocode", "near.port_name", "near.port_km")
    )


def port_calls(positions: DataFrame, ports: DataFrame, data_end: datetime | None = None) -> DataFrame:
    """All port visits in the positions, with `duration_hours` and `arrival_date`, plus
    the odometer readings voyages need. `data_end`: the last instant the positions cover
    (for port gaps of visits still open; None: each vessel's last fix)."""

    def vessel_visits(track):  # a plain function: Spark cannot read a partial's signature
        return port_visits(track, data_end)

    visits = (
        nearest_ports(positions, ports)
        .select("mmsi", "event_time", "offset", "sog_kn", "unlocode", "port_name", "port_km", "odometer_nm")
        .groupBy("mmsi")
        .applyInPandas(vessel_visits, VISIT_SCHEMA)
    )
    return visits.withColumns(
        {
            "duration_hours": (F.col("departure_time").cast("double") - F.col("arrival_time").cast("double")) / 3600.0,
            "arrival_date": F.to_date("arrival_time"),
        }
    )


def voyages(calls: DataFrame, voyage_events: DataFrame, params: VoyageParams) -> DataFrame:
    """Voyages between consecutive port calls of each MMSI of at least
    `params.min_visit_confidence`, with their schedule where a voyage event matches."""
    by_vessel = Window.partitionBy("mmsi").orderBy("arrival_time")
    # GFW `confidence_voyages`: only visits of the minimum confidence split voyages.
    calls = calls.where(F.col("confidence") >= params.min_visit_confidence)
    legs = calls.select(
        "mmsi",
        F.col("unlocode").alias("origin_unlocode"),
        "departure_time",
        "departure_odometer_nm",
        F.lead("unlocode").over(by_vessel).alias("destination_unlocode"),
        F.lead("arrival_time").over(by_vessel).alias("arrival_time"),
        F.lead("arrival_odometer_nm").over(by_vessel).alias("arrival_odometer_nm"),
    ).where(F.col("departure_time").isNotNull() & F.col("arrival_time").isNotNull())
    # Deterministic: the same MMSI and departure instant give the same id on every rerun.
    departure_key = F.concat_ws("|", "mmsi", F.unix_micros("departure_time").cast("string"))
    legs = legs.withColumn("voyage_id", F.sha2(departure_key, 256).substr(1, 32))

    arrivals = voyage_events.where(F.col("kind") == "arrival").select(
        F.col("mmsi").alias("event_mmsi"),
        "port_unlocode",
        "scheduled_time",
        "actual_time",
        F.coalesce("actual_time", "event_time").alias("reported_time"),
        "event_time",
        "partition",
        "offset",
    )
    apart_s = F.abs(F.col("reported_time").cast("double") - F.col("arrival_time").cast("double"))
    matched = legs.join(
        arrivals,
        (legs.mmsi == arrivals.event_mmsi)
        & (legs.destination_unlocode == arrivals.port_unlocode)
        & (apart_s <= params.match_tolerance_hours * 3600.0),
        "left",
    )
    nearest = Window.partitionBy("voyage_id").orderBy(apart_s, "event_time", "partition", "offset")
    matched = matched.withColumn("rank", F.row_number().over(nearest)).where(F.col("rank") == 1)

    duration_h = (F.col("arrival_time").cast("double") - F.col("departure_time").cast("double")) / 3600.0
    distance = F.col("arrival_odometer_nm") - F.col("departure_odometer_nm")
    delay_h = (
        F.coalesce("actual_time", "arrival_time").cast("double") - F.col("scheduled_time").cast("double")
    ) / 3600.0
    return matched.select(
        "mmsi",
        "voyage_id",
        "origin_unlocode",
        "destination_unlocode",
        "departure_time",
        "arrival_time",
        duration_h.alias("duration_hours"),
        distance.alias("distance_nm"),
        F.try_divide(distance, duration_h).alias("avg_speed_kn"),
        F.col("scheduled_time").alias("scheduled_arrival"),
        delay_h.alias("arrival_delay_hours"),
        (delay_h > params.delay_tolerance_hours).alias("is_delayed"),
        F.to_date("departure_time").alias("departure_date"),
    )


def _in_range(column: str, params: VoyageParams) -> Column:
    return (F.col(column) >= F.lit(params.start)) & (F.col(column) < F.lit(params.end))


def transform(
    positions: DataFrame, ports: DataFrame, voyage_events: DataFrame, params: VoyageParams
) -> tuple[DataFrame, DataFrame]:
    """(port calls arriving in the range, of every confidence, voyages departing in it).
    Positions before the range only settle the state at its start."""
    # The positions end with the range's last day: its last microsecond, as in GFW.
    data_end = datetime.combine(params.end, datetime.min.time()) - timedelta(microseconds=1)
    # Both outputs read the visits: run the state machine once.
    calls = port_calls(positions, ports, data_end).persist()
    trips = voyages(calls, voyage_events, params).where(_in_range("departure_date", params))
    in_range = calls.where(_in_range("arrival_date", params)).select(
        "mmsi",
        "unlocode",
        "port_name",
        "arrival_time",
        "departure_time",
        "duration_hours",
        "stop_hours",
        "has_gap_4h",
        "confidence",
        "positions",
        "arrival_date",
    )
    return in_range, trips


def _route() -> Column:
    return F.concat_ws("-", "origin_unlocode", "destination_unlocode").alias("route")


def route_delay_rolling(trips: DataFrame, params: VoyageParams) -> DataFrame:
    """Per route and departure day in the range: voyages, scheduled voyages and delayed
    ones over that day and the six before (a window over day numbers, so days without
    departures still age out), and the delay rate among the scheduled ones. `trips` must
    hold the six days before the range too."""
    daily = trips.groupBy(_route(), "departure_date").agg(
        F.count("*").alias("voyages"),
        F.count("is_delayed").alias("scheduled"),
        F.count(F.when(F.col("is_delayed"), True)).alias("delayed"),
    )
    week = (
        Window.partitionBy("route")
        .orderBy(F.unix_date("departure_date"))
        .rangeBetween(-(ROLLING_DAYS - 1), Window.currentRow)
    )
    rolled = daily.select(
        "route", "departure_date", *[F.sum(c).over(week).alias(f"{c}_7d") for c in ("voyages", "scheduled", "delayed")]
    )
    return rolled.where(_in_range("departure_date", params)).select(
        "route",
        "departure_date",
        "voyages_7d",
        "scheduled_7d",
        "delayed_7d",
        F.try_divide("delayed_7d", "scheduled_7d").alias("delay_rate_7d"),
    )


def route_performance(trips: DataFrame, params: VoyageParams) -> DataFrame:
    """Per route, over voyages departing in the range: count, share on time among the
    scheduled ones (per cent), mean and 90th-percentile duration (linear interpolation).
    `period_start` and `period_end` name the range's first and last day."""
    in_range = trips.where(_in_range("departure_date", params))
    return (
        in_range.groupBy(_route())
        .agg(
            F.count("*").alias("voyages"),
            F.count("is_delayed").alias("scheduled_voyages"),
            F.try_divide(100.0 * F.count(F.when(~F.col("is_delayed"), True)), F.count("is_delayed")).alias(
                "on_time_pct"
            ),
            F.avg("duration_hours").alias("avg_duration_hours"),
            F.percentile("duration_hours", 0.9).alias("p90_duration_hours"),
        )
        .select("*", F.lit(params.start).alias("period_start"), F.lit(params.last_day).alias("period_end"))
    )


def extract(spark: SparkSession, lake_root: str, params: VoyageParams) -> tuple[DataFrame, DataFrame, DataFrame]:
    """Silver positions from the lookback before the range to its end, the ports, and
    the voyage events that can match them (empty when Silver has none yet)."""
    first_day = params.start - timedelta(days=params.lookback_days)
    positions = (
        spark.read.format("delta")
        .load(catalog.SILVER_AIS_POSITIONS.path(lake_root))
        .where((F.col("event_date") >= F.lit(first_day)) & (F.col("event_date") < F.lit(params.end)))
    )
    ports = (
        spark.read.format("delta")
        .load(catalog.REFERENCE_PORTS.path(lake_root))
        .select("unlocode", "name", "latitude", "longitude")
    )
    events_path = catalog.SILVER_VOYAGE_EVENTS.path(lake_root)
    if DeltaTable.isDeltaTable(spark, events_path):
        # An arrival on the last day may be reported after midnight.
        events = (
            spark.read.format("delta")
            .load(events_path)
            .where((F.col("event_date") >= F.lit(first_day)) & (F.col("event_date") <= F.lit(params.end)))
            .select(*[column.split()[0] for column in VOYAGE_EVENT_SCHEMA.split(", ")])
        )
    else:
        log.warning("no table at %s; voyages get no schedule", events_path)
        events = spark.createDataFrame([], VOYAGE_EVENT_SCHEMA)
    return positions, ports, events


def _rows_in_range(spark: SparkSession, table: catalog.Table, lake_root: str, column: str, params: VoyageParams) -> int:
    return spark.read.format("delta").load(table.path(lake_root)).where(_in_range(column, params)).count()


def load(
    spark: SparkSession, calls: DataFrame, trips: DataFrame, lake_root: str, params: VoyageParams
) -> dict[str, int]:
    """Write the four tables for the range; returns the rows each now holds for it."""
    # mergeSchema: a table written before a column was added gains it (null on days not rewritten).
    daily = ((catalog.GOLD_PORT_CALLS, calls, "arrival_date"), (catalog.GOLD_VOYAGES, trips, "departure_date"))
    written = {}
    for table, frame, column in daily:
        replace_range(frame, table, lake_root, column, params.start, params.end, merge_schema=True)
        written[table.name] = _rows_in_range(spark, table, lake_root, column, params)
    # Rates read the written voyages back, with the days before the range the window needs.
    history = (
        spark.read.format("delta")
        .load(catalog.GOLD_VOYAGES.path(lake_root))
        .where(
            (F.col("departure_date") >= F.lit(params.start - timedelta(days=ROLLING_DAYS - 1)))
            & (F.col("departure_date") < F.lit(params.end))
        )
    )
    rolling = catalog.GOLD_ROUTE_DELAY_ROLLING
    replace_range(
        route_delay_rolling(history, params),
        rolling,
        lake_root,
        "departure_date",
        params.start,
        params.end,
        merge_schema=True,
    )
    written[rolling.name] = _rows_in_range(spark, rolling, lake_root, "departure_date", params)
    # One set of rows per period, not a range of days: replace exactly this period's rows.
    performance = catalog.GOLD_ROUTE_PERFORMANCE
    period = f"period_start = DATE'{params.start.isoformat()}' AND period_end = DATE'{params.last_day.isoformat()}'"
    (
        route_performance(history, params)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", period)
        .option("mergeSchema", "true")
        .save(performance.path(lake_root))
    )
    written[performance.name] = (
        spark.read.format("delta").load(performance.path(lake_root)).where(F.expr(period)).count()
    )
    return written


def run(spark: SparkSession, lake_root: str, params: VoyageParams) -> dict:
    """Extract, transform and load one range of departure days; returns the run's summary."""
    started = time.monotonic()
    positions, ports, events = extract(spark, lake_root, params)
    read = positions.agg(F.count("*").alias("rows"), F.countDistinct("event_date").alias("days")).first()
    log.info(
        "%d positions in %d event_date partitions (%s..%s, %d lookback days)",
        read.rows,
        read.days,
        params.start - timedelta(days=params.lookback_days),
        params.last_day,
        params.lookback_days,
    )
    calls, trips = transform(positions, ports, events, params)
    written = load(spark, calls, trips, lake_root, params)
    for table, rows in written.items():
        log.info("gold.%s %s..%s: %d rows", table, params.start, params.last_day, rows)
    minutes = (time.monotonic() - started) / 60.0
    return {
        "positions": read.rows,
        "partitions": read.days,
        **written,
        "minutes": round(minutes, 2),
        "positions_per_minute": round(read.rows / minutes) if minutes > 0 else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = job_parser(__doc__.splitlines()[0], interval="day")
    parser.add_argument(
        "--lookback-days",
        type=int,
        default=3,
        help="days of positions read before --start to know who is in port at its start",
    )
    parser.add_argument(
        "--delay-tolerance-hours",
        type=float,
        default=1.0,
        help="an arrival later than scheduled by more than this is delayed",
    )
    parser.add_argument(
        "--match-tolerance-hours",
        type=float,
        default=6.0,
        help="largest gap between an AIS arrival and the voyage event it takes its schedule from",
    )
    parser.add_argument(
        "--min-visit-confidence",
        type=int,
        choices=range(1, 5),
        default=MIN_VISIT_CONFIDENCE,
        help="lowest GFW port-visit confidence (1-4) that ends and starts voyages",
    )
    args = parser.parse_args(argv)
    start_job(args, JOB)
    params = VoyageParams(
        args.start,
        args.end,
        args.lookback_days,
        args.delay_tolerance_hours,
        args.match_tolerance_hours,
        args.min_visit_confidence,
    )
    summary = run(get_spark("voyage-analytics"), args.lake_root, params)
    log.info("done %s", summary)


if __name__ == "__main__":
    main()
